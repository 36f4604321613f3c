import type { components } from './schema.js'

/** The closed set of codes Switchboard answers errors with (from the OpenAPI document). */
export type ErrorCode = components['schemas']['Error']['code']

/** What the client itself reports when there is no answer to read. */
export type ClientErrorCode = 'network_error' | 'unexpected_answer'

/**
 * Any failed call: Switchboard's error (`code` from the closed set, the HTTP `status`,
 * `details` when the server gave any), or a client-side failure (`status` 0).
 */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError'
  constructor(
    readonly status: number,
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly details?: unknown,
    /** The request id Switchboard logged the call under (x-request-id), for support. */
    readonly requestId: string | null = null,
  ) {
    super(message)
  }

  /** A retry may succeed: no answer, rate limited, unavailable, or an upstream failure. */
  get retryable(): boolean {
    return (
      this.status === 0 ||
      this.status === 429 ||
      this.status === 503 ||
      this.status === 502 ||
      this.status === 504
    )
  }

  /** Seconds the server asked to wait (Retry-After on a 429), when it said. */
  retryAfterSeconds?: number

  /**
   * The error a Switchboard answer carries, or null when the answer is not Switchboard's own
   * refusal (on the pass-through proxy lanes, an agent's 4xx/5xx is its answer, not an error).
   */
  static async from(response: Response): Promise<SwitchboardError | null> {
    if (!response.headers.has('x-switchboard-error')) return null
    return SwitchboardError.fromAnswer(response, await response.json().catch(() => null))
  }

  /** The error of a failed answer whose body has been read already. */
  static fromAnswer(response: Response, body: unknown): SwitchboardError {
    const b = (body && typeof body === 'object' ? body : {}) as {
      error?: unknown
      code?: unknown
      details?: unknown
    }
    const code = response.headers.get('x-switchboard-error') ?? (typeof b.code === 'string' ? b.code : null)
    const e = new SwitchboardError(
      response.status,
      (code ?? 'unexpected_answer') as ErrorCode | ClientErrorCode,
      typeof b.error === 'string' ? b.error : `Switchboard answered ${response.status}`,
      b.details,
      response.headers.get('x-request-id'),
    )
    const retryAfter = Number(response.headers.get('retry-after'))
    if (Number.isFinite(retryAfter) && retryAfter > 0) e.retryAfterSeconds = retryAfter
    return e
  }
}
