import { readCapped } from '../../lib/read'
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
 * An upstream answer read whole, at most `cap` bytes: JSON when it is JSON (or untyped and
 * parses), else text; null when empty. gzip/deflate are inflated as they stream, so the cap
 * holds for what is kept, not for what came over the wire.
 */
export async function readAnswer(
  response: Response,
  cap: number,
): Promise<{ body: unknown; truncated: boolean; error: string | null }> {
  const encoding = response.headers.get('content-encoding')?.trim().toLowerCase() ?? 'identity'
  let stream = response.body
  if (!stream) return { body: null, truncated: false, error: null }
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
    stream = stream.pipeThrough(new DecompressionStream(encoding === 'deflate' ? 'deflate' : 'gzip'))
  } else if (encoding !== 'identity') {
    await stream.cancel().catch(() => {})
    return {
      body: null,
      truncated: false,
      error: `The answer uses an unsupported content-encoding (${encoding})`,
    }
  }
  const { bytes, truncated } = await readCapped(stream, cap)
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
