import { readCapped } from '../../lib/read'
import { nestsDeeperThan } from '../../lib/storable'
import { type AnswerHeaderRules, answerHeaders } from './headers'

/**
 * The upstream answer handed back as it streams: status and body untouched (server-sent
 * events pass event by event, nothing is buffered or re-encoded), headers by `rules`.
 */
export function streamedAnswer(
  response: Response,
  rules?: AnswerHeaderRules,
  extra: Record<string, string> = {},
): Response {
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: answerHeaders(response.headers, rules, extra),
  })
}

/**
 * The answer body with its Content-Encoding undone as it streams (gzip, deflate), so a cap on
 * what is read holds for what is kept, not for what came over the wire. Another encoding is
 * an error: its bytes would mean nothing to the reader.
 */
async function inflated(
  response: Response,
): Promise<{ stream: ReadableStream<Uint8Array> | null } | { error: string }> {
  const encoding = response.headers.get('content-encoding')?.trim().toLowerCase() ?? 'identity'
  const stream = response.body
  if (!stream || encoding === 'identity') return { stream }
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate')
    return {
      stream: stream.pipeThrough(new DecompressionStream(encoding === 'deflate' ? 'deflate' : 'gzip')),
    }
  await stream.cancel().catch(() => {})
  return { error: `The answer uses an unsupported content-encoding (${encoding})` }
}

/**
 * An upstream answer read whole, at most `cap` bytes: JSON when it is JSON (or untyped and
 * parses), else text; null when empty. gzip/deflate are inflated as they stream, so the cap
 * holds for what is kept, not for what came over the wire.
 */
export async function readAnswer(
  response: Response,
  cap: number,
): Promise<{ body: unknown; truncated: boolean; error: string | null }> {
  const source = await inflated(response)
  if ('error' in source) return { body: null, truncated: false, error: source.error }
  if (!source.stream) return { body: null, truncated: false, error: null }
  const { bytes, truncated } = await readCapped(source.stream, cap)
  if (bytes.byteLength === 0) return { body: null, truncated: false, error: null }
  const text = new TextDecoder().decode(bytes)
  const type = response.headers.get('content-type')?.toLowerCase() ?? ''
  if (!truncated && (type === '' || /[/+]json\b/.test(type))) {
    try {
      return { body: JSON.parse(text), truncated, error: null }
    } catch {}
  }
  return { body: text, truncated, error: null }
}

/** How an answer body read whole is handed on: parsed JSON, text, base64 of the bytes, or nothing. */
export type BodyEncoding = 'json' | 'text' | 'base64' | 'none'

export type WholeAnswer =
  | { ok: true; body: unknown; bodyEncoding: BodyEncoding; bytes: number }
  | { ok: false; kind: 'too_large'; limitBytes: number; message: string }
  | { ok: false; kind: 'unreadable'; message: string }

/**
 * An upstream answer read whole for a user that re-shapes it (app execution): never more than
 * `cap` bytes after inflating — a larger answer is a failure, never a cut body passed off as the
 * answer — then decoded by `decodeBody`. Throws only if the stream itself fails (the caller's
 * deadline, the upstream hanging up).
 */
export async function readWholeAnswer(response: Response, cap: number): Promise<WholeAnswer> {
  const tooLarge = {
    ok: false,
    kind: 'too_large',
    limitBytes: cap,
    message: `The answer is larger than ${cap} bytes`,
  } as const
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  const identity =
    (response.headers.get('content-encoding') ?? 'identity').trim().toLowerCase() === 'identity'
  if (identity && declared > cap) {
    await response.body?.cancel().catch(() => {})
    return tooLarge
  }
  const source = await inflated(response)
  if ('error' in source) return { ok: false, kind: 'unreadable', message: source.error }
  const { bytes, truncated } = await readCapped(source.stream, cap)
  if (truncated) return tooLarge
  return { ok: true, bytes: bytes.byteLength, ...decodeBody(bytes, response.headers.get('content-type')) }
}

/** Deeper than this, a JSON answer is handed on as text: re-serialising it could overflow the stack. */
const MAX_ANSWER_DEPTH = 512

const TEXT_TYPES = /^(text\/|application\/(xml|javascript|ecmascript|x-www-form-urlencoded|graphql)$)|\+xml$/
const JSON_TYPE = /^application\/json$|[/+]json$/

/**
 * Bytes as a caller of a JSON API wants them: parsed when the type says JSON (or there is no
 * type and they parse), text when the type is textual (in its charset) or absent and the bytes
 * are UTF-8, base64 otherwise — so a binary answer survives the trip intact.
 */
export function decodeBody(
  bytes: Uint8Array,
  contentType: string | null,
): { body: unknown; bodyEncoding: BodyEncoding } {
  if (bytes.byteLength === 0) return { body: null, bodyEncoding: 'none' }
  const [media = '', ...params] = (contentType ?? '').toLowerCase().split(';')
  const type = media.trim()
  const charset =
    params
      .map((p) => p.trim())
      .find((p) => p.startsWith('charset='))
      ?.slice(8)
      .replace(/"/g, '') ?? 'utf-8'
  const json = JSON_TYPE.test(type)
  let text: string | null = null
  if (type === '' || json || TEXT_TYPES.test(type)) {
    try {
      text = new TextDecoder((json || type === '' ? 'utf-8' : charset) as Bun.Encoding, {
        fatal: true,
      }).decode(bytes)
    } catch {
      // Not text in its charset (or an unknown charset): the bytes go as base64.
    }
  }
  if (text === null) return { body: Buffer.from(bytes).toString('base64'), bodyEncoding: 'base64' }
  if ((json || type === '') && !nestsDeeperThan(text, MAX_ANSWER_DEPTH)) {
    try {
      return { body: JSON.parse(text), bodyEncoding: 'json' }
    } catch {}
  }
  return { body: text, bodyEncoding: 'text' }
}

export type StreamWatch = {
  /** Every chunk that passes (the idle timer's reset). */
  touch?: () => void
  /** Once: the stream ended (error null), failed, or was cancelled by its reader. */
  end?: (error: unknown, bytes: number) => void
  /** More than this many bytes: the stream fails with `TooLarge`. */
  maxBytes?: number
}

/** A stream cut at its cap (see `watched`). */
export class TooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`more than ${limitBytes} bytes`)
  }
}

/**
 * The same bytes, pulled one chunk at a time (no read-ahead, so back-pressure reaches the
 * source), with hooks for activity, the end, and a byte cap. Cancelling it cancels the source.
 */
export function watched(body: ReadableStream<Uint8Array>, watch: StreamWatch): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let bytes = 0
  let finished = false
  const finish = (error: unknown) => {
    if (finished) return
    finished = true
    watch.end?.(error, bytes)
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        let r: Awaited<ReturnType<typeof reader.read>>
        try {
          r = await reader.read()
        } catch (e) {
          finish(e)
          c.error(e)
          return
        }
        if (r.done) {
          finish(null)
          c.close()
          return
        }
        bytes += r.value.byteLength
        if (watch.maxBytes !== undefined && bytes > watch.maxBytes) {
          const e = new TooLarge(watch.maxBytes)
          finish(e)
          c.error(e)
          await reader.cancel(e).catch(() => {})
          return
        }
        watch.touch?.()
        c.enqueue(r.value)
      },
      async cancel(reason) {
        finish(reason ?? new Error('cancelled'))
        await reader.cancel(reason).catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
}
