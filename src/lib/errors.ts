/**
 * The closed set of error codes Switchboard answers with, and their HTTP status.
 * Every error leaves the server as `{ error, code, details? }` (see http/errors.ts).
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_cursor: 400,
  invalid_state: 400,
  invalid_url: 400,
  protocol_not_enabled: 400,
  unknown_protocol: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  quota_exceeded: 429,
  internal_error: 500,
  bad_gateway: 502,
  pool_exhausted: 502,
  unavailable: 503,
  database_unavailable: 503,
  storage_unavailable: 503,
  gateway_timeout: 504,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.status = ERROR_STATUS[code]
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`)
export const invalid = (message: string, details?: unknown) =>
  new AppError('invalid_request', message, details)
export const unauthorized = (message = 'A valid credential is required') =>
  new AppError('unauthorized', message)
export const forbidden = (message: string) => new AppError('forbidden', message)
export const conflict = (message: string) => new AppError('conflict', message)

/** A workspace holds as much of something as it may (a SWITCHBOARD_MAX_… setting). */
export const quotaExceeded = (what: string, limit: number, setting: string) =>
  new AppError('quota_exceeded', `This workspace already holds ${what} (at most ${limit}; ${setting})`, {
    limit,
    setting,
  })

/** The wire shape of every error. */
export type ErrorBody = { error: string; code: ErrorCode; details?: unknown }

export const errorBody = (e: AppError): ErrorBody =>
  e.details === undefined
    ? { error: e.message, code: e.code }
    : { error: e.message, code: e.code, details: e.details }
