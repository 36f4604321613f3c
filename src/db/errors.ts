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

/**
 * Postgres refusing the text it was given (NUL: 22021; an unpaired surrogate in jsonb: 22P05).
 * Input is checked before it reaches the database; this is the net under that check.
 */
export function isUnstorableText(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code
    if (code === '22021' || code === '22P05') return true
    cur = (cur as { cause?: unknown }).cause
  }
  return false
}
