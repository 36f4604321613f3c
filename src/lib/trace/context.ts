/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): reading a caller's `traceparent`
 * and `tracestate`, making ids, and writing the header a hop sends. A few string operations
 * per request: this runs on every one, tracing exported or not.
 */

/** version-traceid-parentid-flags; a later version may append fields after a dash. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)
/** Printable ASCII, at most 512 characters (the spec's limit a receiver must accept). */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/

export type SpanContext = { traceId: string; spanId: string; flags: string }

/** A `traceparent` value, or null when it is malformed (then the caller's trace is not continued). */
export function parseTraceparent(value: string | null | undefined): SpanContext | null {
  if (!value) return null
  const m = TRACEPARENT.exec(value.trim())
  if (!m) return null
  const [, version, traceId, spanId, flags, rest] = m
  // ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null
  // Passed on as version 00: the sampled and random bits are the ones it defines.
  return { traceId: traceId!, spanId: spanId!, flags: hex2(Number.parseInt(flags!, 16) & 0x03) }
}

/** `tracestate` is kept as received when it is plain printable text within the length limit. */
export function parseTracestate(value: string | null | undefined): string | null {
  if (!value) return null
  const v = value.trim()
  return v !== '' && TRACESTATE.test(v) ? v : null
}

export const formatTraceparent = (c: SpanContext) => `00-${c.traceId}-${c.spanId}-${c.flags}`

export const isSampled = (flags: string) => (Number.parseInt(flags, 16) & 1) === 1

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const hex2 = (n: number) => HEX[n]!

// Random bytes drawn in blocks and hex-encoded natively in one go: an id is then a substring.
const POOL_BYTES = 8192
const pool = new Uint8Array(POOL_BYTES)
let hexPool = ''
let offset = POOL_BYTES

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    crypto.getRandomValues(pool)
    hexPool = Buffer.from(pool.buffer, 0, POOL_BYTES).toString('hex')
    offset = 0
  }
  const id = hexPool.slice(offset * 2, (offset + bytes) * 2)
  offset += bytes
  // An all-zero id is invalid; its odds are nil, but it must never go out.
  return id === ZERO_TRACE || id === ZERO_SPAN ? randomHex(bytes) : id
}

export const newTraceId = () => randomHex(16)
export const newSpanId = () => randomHex(8)
