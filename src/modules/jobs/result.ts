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

/**
 * What a job stores as its result: the body as JSON when it is JSON, else as text; nothing
 * for an empty body. A body cut at the cap is kept as text (the cut would not parse).
 */
export function resultOf(bytes: Uint8Array, truncated: boolean): JsonValue {
  if (bytes.byteLength === 0) return null
  const text = new TextDecoder().decode(bytes)
  if (truncated) return text
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return text
  }
}

/** A short, printable excerpt of an error answer for the job's `error`. */
export function excerpt(bytes: Uint8Array, max = 500): string {
  const text = new TextDecoder().decode(bytes.subarray(0, max * 4)).trim()
  return text.length > max ? `${text.slice(0, max)}…` : text
}
