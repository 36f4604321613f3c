import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import type { JsonValue } from '../../db/schema/types'
import { unstorable } from '../../lib/storable'

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
