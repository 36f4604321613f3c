import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import type { JsonValue } from '../../db/schema/types'

/**
 * Reads a body up to `cap` bytes; past it the rest is cancelled and the read says so.
 * Throws if the stream fails (or is aborted) before its end.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  cap: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!body) return { bytes: new Uint8Array(), truncated: false }
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (total + value.byteLength > cap) {
      chunks.push(value.subarray(0, cap - total))
      total = cap
      truncated = true
      await reader.cancel().catch(() => {})
      break
    }
    chunks.push(value)
    total += value.byteLength
  }
  return { bytes: Buffer.concat(chunks), truncated }
}

/**
 * Undoes a Content-Encoding (the outbound client passes bytes through as they came),
 * never to more than `cap` bytes: a small compressed answer must not become a huge one.
 */
export function decoded(bytes: Uint8Array, encoding: string | null, cap: number): Uint8Array {
  const e = (encoding ?? '').trim().toLowerCase()
  if (e === '' || e === 'identity' || bytes.byteLength === 0) return bytes
  const opts = { maxOutputLength: cap }
  if (e === 'gzip' || e === 'x-gzip') return gunzipSync(bytes, opts)
  if (e === 'deflate') return inflateSync(bytes, opts)
  if (e === 'br') return brotliDecompressSync(bytes, opts)
  throw new Error(`unsupported content-encoding ${e}`)
}

/** NUL, or half of a surrogate pair: text Postgres refuses in jsonb (NUL in text columns too). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** True when a JSON value holds text that Postgres cannot store, so neither database is asked to. */
export function unstorable(value: unknown): boolean {
  // A loop, not recursion: a deeply nested body must not overflow the stack.
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

/**
 * What a job stores as its result: the body as JSON when it is JSON, else as text; nothing
 * for an empty body. A body cut at the cap is kept as text (the cut would not parse). A body
 * that is not UTF-8 text (or holds text Postgres cannot store: NUL, a lone surrogate) is kept as
 * `{encoding: "base64", data}`, so both databases store the same thing.
 */
export function resultOf(bytes: Uint8Array, truncated: boolean): JsonValue {
  if (bytes.byteLength === 0) return null
  let text: string
  try {
    // `stream` leaves out a character the cap cut in half instead of calling it invalid.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: truncated })
  } catch {
    return binary(bytes)
  }
  if (text.includes('\u0000')) return binary(bytes)
  if (truncated) return text
  try {
    const parsed = JSON.parse(text) as JsonValue
    return unstorable(parsed) ? binary(bytes) : parsed
  } catch {
    return text
  }
}

const binary = (bytes: Uint8Array): JsonValue => ({
  encoding: 'base64',
  data: Buffer.from(bytes).toString('base64'),
})

/** A short, printable excerpt of an error answer for the job's `error`. */
export function excerpt(bytes: Uint8Array, max = 500): string {
  const text = new TextDecoder()
    .decode(bytes.subarray(0, max * 4))
    // Control characters (NUL above all: Postgres refuses it) say nothing to a reader.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .trim()
  return text.length > max ? `${text.slice(0, max)}…` : text
}
