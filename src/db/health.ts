import { AppError } from '../lib/errors'

/**
 * Faults of the database itself, as opposed to a bad query: the server unreachable, stopped,
 * frozen or starting (`database_unavailable`), or the disk under SQLite full, failing or
 * read-only (`storage_unavailable`). Both answer 503 with Retry-After, and `/readyz` reports
 * them until a write goes through again.
 */
export type Unavailable = {
  code: 'database_unavailable' | 'storage_unavailable'
  /** The driver's own name for it: SQLITE_FULL, ECONNREFUSED, 57P01, timeout… */
  cause: string
}

/** How long a client is told to wait before trying again. */
export const RETRY_AFTER_SECONDS = 1

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EADDRNOTAVAIL',
  // Node's stream and socket names for the same thing, as Bun raises them when a socket dies mid-write.
  'ERR_SOCKET_CLOSED',
  'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ConnectionRefused',
  'ConnectionClosed',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
])

/** What kind of database fault `e` is (looking through drizzle's wrappers), or null for any other error. */
export function classify(e: unknown): Unavailable | null {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    if (cur instanceof AppError) {
      if (cur.code === 'database_unavailable' || cur.code === 'storage_unavailable')
        return { code: cur.code, cause: String((cur.details as { cause?: string })?.cause ?? cur.code) }
      return null
    }
    const code = (cur as { code?: unknown }).code
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code)) return { code: 'database_unavailable', cause: code }
      // SQLSTATE class 08 (connection exception), 57P01-57P05 (shutdown, crash, starting up), too many connections.
      if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-5]$/.test(code) || code === '53300')
        return { code: 'database_unavailable', cause: code }
      if (/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/.test(code))
        return { code: 'storage_unavailable', cause: code }
      if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return { code: 'database_unavailable', cause: code }
    }
    cur = (cur as { cause?: unknown }).cause
  }
  return null
}

export function unavailableError(u: Unavailable): AppError {
  const message =
    u.code === 'storage_unavailable'
      ? `The database's storage cannot take writes now (${u.cause}); retry later`
      : `The database is unavailable now (${u.cause}); retry later`
  return new AppError(u.code, message, { cause: u.cause }, { 'retry-after': String(RETRY_AFTER_SECONDS) })
}

/**
 * The last database fault seen and not yet cleared by a write that went through. Readiness
 * reads it: a disk that refused a write stays "not ready" until one lands.
 */
export class DbHealth {
  private fault: (Unavailable & { at: number }) | null = null

  /** Notes `e` if it is a database fault; returns its classification. */
  failed(e: unknown): Unavailable | null {
    const u = classify(e)
    if (u) this.fault = { ...u, at: Date.now() }
    return u
  }

  succeeded() {
    this.fault = null
  }

  get current(): Unavailable | null {
    return this.fault && { code: this.fault.code, cause: this.fault.cause }
  }
}
