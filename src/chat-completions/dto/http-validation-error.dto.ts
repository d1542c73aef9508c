import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OpenApiSchema } from '../../common/openapi/open-schema.decorator.js';
import { ErrorObjectDto } from './error-response.dto.js';

/** One validation failure, as pydantic v2 reports it. */
@OpenApiSchema({ name: 'ValidationError', title: 'ValidationError', untyped: ['input'] })
export class ValidationErrorDto {
  @ApiProperty({
    title: 'Location',
    type: 'array',
    items: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
    description: 'Where: `["body", "messages", 0]`.',
  })
  loc: (string | number)[];

  @ApiProperty({ title: 'Message', type: 'string', description: 'What is wrong, in words.', example: 'Field required' })
  msg: string;

  @ApiProperty({
    title: 'Error Type',
    type: 'string',
    description: "pydantic's error type: `missing`, `string_type`, `list_type`, `json_invalid`…",
    example: 'missing',
  })
  type: string;

  @ApiPropertyOptional({ title: 'Input', description: 'The offending input.' })
  input?: unknown;
}

/** FastAPI's 422 body, with OpenAI's error object beside it. */
@OpenApiSchema({ name: 'HTTPValidationError', title: 'HTTPValidationError' })
export class HttpValidationErrorDto {
  @ApiProperty({ title: 'Detail', type: () => [ValidationErrorDto], required: false, description: 'One entry per invalid field.' })
  detail?: ValidationErrorDto[];

  /** The first problem, where OpenAI clients read an error: `message` names the field, `param` is the field, `code` its pydantic type. */
  @ApiPropertyOptional({ type: () => ErrorObjectDto })
  error?: ErrorObjectDto;
}

/** The 422 body for a request without `model`. */
export const HTTP_VALIDATION_ERROR_EXAMPLE = {
  detail: [{ type: 'missing', loc: ['body', 'model'], msg: 'Field required', input: { messages: [{ role: 'user', content: 'Hello from the docs' }] } }],
  error: { message: 'body.model: Field required', type: 'invalid_request_error', param: 'model', code: 'missing' },
};
