import { AppError } from './errors'

/**
 * Opaque pagination cursors: base64url of a small JSON object. A cursor that does not
 * decode to the expected shape is a 400, never a 500 or a silent restart from the top.
 */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export function decodeCursor<T>(cursor: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined || cursor === '') return undefined
  try {
    if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('shape')
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (check(v)) return v
  } catch {}
  throw new AppError('invalid_cursor', 'The cursor is not one this API issued')
}

/** Cursor over UUIDv7 row ids: `{ after: id }`. */
export const idCursor = {
  encode: (id: string) => encodeCursor({ after: id }),
  decode: (cursor: string | undefined) =>
    decodeCursor(cursor, (v): v is { after: string } => {
      const o = v as { after?: unknown }
      return (
        typeof o === 'object' &&
        o !== null &&
        typeof o.after === 'string' &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(o.after)
      )
    })?.after,
}

/** Given limit+1 rows, the page and the cursor for the next one. */
export function page<T extends { id: string }>(rows: T[], limit: number) {
  const more = rows.length > limit
  const items = more ? rows.slice(0, limit) : rows
  return { items, nextCursor: more ? idCursor.encode(items[items.length - 1]!.id) : null }
}

/**
 * Like `page`, and also by bytes: the page stops before its items' sizes pass `budget` (it
 * always holds at least one), and then carries a cursor to the rest. A long page of big
 * items costs what a short page of them does.
 */
export function pageWithin<T extends { id: string }>(
  rows: T[],
  limit: number,
  budget: number,
  sizeOf: (row: T) => number,
) {
  let total = 0
  let n = 0
  while (n < rows.length && n < limit) {
    total += sizeOf(rows[n]!)
    if (n > 0 && total > budget) break
    n++
  }
  const more = rows.length > n
  const items = more ? rows.slice(0, n) : rows
  return { items, nextCursor: more ? idCursor.encode(items[items.length - 1]!.id) : null }
}

/** A JSON value's size as sent, for `pageWithin`. */
export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null))
