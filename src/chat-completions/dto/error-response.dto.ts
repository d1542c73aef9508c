import { ApiProperty } from '@nestjs/swagger';

/** OpenAI's error object. */
export class ErrorObjectDto {
  @ApiProperty({ type: 'string', example: 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".' })
  message: string;

  @ApiProperty({
    type: 'string',
    description: '`invalid_request_error`, `authentication_error`, `permission_error`, `rate_limit_error` or `server_error`.',
    example: 'authentication_error',
  })
  type: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'The request field at fault, if any.', example: null })
  param: string | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'A stable code, e.g. `invalid_api_key`, `model_not_found`, `rate_limit_exceeded`, `upstream_timeout`.',
    example: 'invalid_api_key',
  })
  code: string | null;
}

/** Every error except validation: FastAPI's `detail` string beside OpenAI's `error` object. */
export class ErrorResponseDto {
  @ApiProperty({
    type: 'string',
    description: 'The message, as FastAPI writes it.',
    example: 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".',
  })
  detail: string;

  @ApiProperty({ type: () => ErrorObjectDto })
  error: ErrorObjectDto;
}
