/** Unique-constraint violations from either driver (SQLite: SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY; Postgres: 23505). */
export function isUniqueViolation(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const err = cur as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown }
    if (err.code === '23505') return true
    if (typeof err.code === 'string' && /SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/.test(err.code)) return true
    if (typeof err.message === 'string' && /UNIQUE constraint failed/.test(err.message)) return true
    cur = err.cause
  }
  return false
}
