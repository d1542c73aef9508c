import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OpenApiSchema } from '../../common/openapi/open-schema.decorator.js';

/** One validation failure, as pydantic v2 reports it. */
@OpenApiSchema({ name: 'ValidationError', title: 'ValidationError', untyped: ['input'] })
export class ValidationErrorDto {
  @ApiProperty({ title: 'Location', type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] }, description: 'Where: `["body", "messages", 0]`.' })
  loc: (string | number)[];

  @ApiProperty({ title: 'Message', type: 'string', example: 'Field required' })
  msg: string;

  @ApiProperty({ title: 'Error Type', type: 'string', example: 'missing' })
  type: string;

  @ApiPropertyOptional({ title: 'Input', description: 'The offending input.' })
  input?: unknown;
}

/** FastAPI's 422 body. */
@OpenApiSchema({ name: 'HTTPValidationError', title: 'HTTPValidationError' })
export class HttpValidationErrorDto {
  @ApiProperty({ title: 'Detail', type: () => [ValidationErrorDto], required: false })
  detail?: ValidationErrorDto[];
}
