/**
 * Every `error.code` the service itself sends: one vocabulary, so a code outside it does not compile.
 * (An upstream's own 4xx body passes through with whatever code the upstream chose.)
 */
export const ERROR_CODES = {
  // The caller
  invalidApiKey: 'invalid_api_key',
  modelNotAllowed: 'model_not_allowed',
  modelNotFound: 'model_not_found',
  rateLimitExceeded: 'rate_limit_exceeded',
  rateLimitStoreUnavailable: 'rate_limit_store_unavailable',
  invalidRequest: 'invalid_request',
  contextLengthExceeded: 'context_length_exceeded',
  invalidImageUrl: 'invalid_image_url',
  invalidToolArguments: 'invalid_tool_arguments',
  bodyTooDeep: 'body_too_deep',
  invalidType: 'invalid_type',
  invalidValue: 'invalid_value',
  integerAboveMaxValue: 'integer_above_max_value',
  integerBelowMinValue: 'integer_below_min_value',
  // HTTP itself
  badRequest: 'bad_request',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  requestTimeout: 'request_timeout',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  headersTooLarge: 'headers_too_large',
  // The service
  overloaded: 'overloaded',
  internalError: 'internal_error',
  // Upstreams
  upstreamError: 'upstream_error',
  upstreamTimeout: 'upstream_timeout',
  upstreamUnavailable: 'upstream_unavailable',
  upstreamInvalidReply: 'upstream_invalid_reply',
  upstreamAuthFailed: 'upstream_auth_failed',
  upstreamRateLimited: 'upstream_rate_limited',
  adapterCapacity: 'adapter_capacity',
  adapterUnavailable: 'adapter_unavailable',
} as const;

/** One of the service's own error codes. */
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];
