/**
 * Text neither database can keep as it is: Postgres refuses NUL in text and jsonb and an
 * unpaired surrogate in jsonb, and SQLite silently turns a lone surrogate into U+FFFD.
 * Input holding either is refused up front, the same way on both databases.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

export const unstorableText = (s: string): boolean => UNSTORABLE.test(s)

/** True when a JSON value holds text that cannot be stored (in a value or a key). */
export function unstorable(value: unknown): boolean {
  // A loop, not recursion: a deeply nested value must not overflow the stack.
  const todo: unknown[] = [value]
  while (todo.length > 0) {
    const v = todo.pop()
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return true
    } else if (Array.isArray(v)) {
      for (const inner of v) todo.push(inner)
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, inner] of Object.entries(v)) {
        if (UNSTORABLE.test(k)) return true
        todo.push(inner)
      }
    }
  }
  return false
}

/** How deep JSON may nest: far beyond any real document, far below what recursion survives. */
export const MAX_JSON_DEPTH = 64

/**
 * True when JSON text nests objects and arrays deeper than `max`, judged by one scan of the
 * text before it is parsed (brackets inside strings do not count), so nothing recursive ever
 * sees a hostile document.
 */
export function nestsDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}
