import { describe, expect, test } from 'bun:test'
import { TRANSPARENT_HEADERS } from '../../src/modules/forward/headers'
import { harness, upstream } from '../helpers'

/**
 * The engine's send against a real local upstream: the idle timer (before the answer and
 * while it streams), the total deadline, the request-body cap, the end hook.
 */
const h = await harness()
const forward = h.deps.forward
const enc = new TextEncoder()

let aborted = 0
const up = upstream(async (req) => {
  const path = new URL(req.url).pathname
  const onAbort = () => new Promise<void>((r) => req.signal.addEventListener('abort', () => r()))
  if (path === '/silent') {
    await onAbort()
    aborted++
    return new Response('late')
  }
  if (path === '/stall') {
    req.signal.addEventListener('abort', () => aborted++)
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(enc.encode('data: one\n\n'))
          // …and nothing more.
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  }
  if (path === '/half') {
    // Says 200,000 bytes, sends half, then nothing.
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(100_000).fill(97))
        },
      }),
      { headers: { 'content-length': '200000', 'content-type': 'application/octet-stream' } },
    )
  }
  if (path === '/trickle') {
    let timer: ReturnType<typeof setInterval>
    return new Response(
      new ReadableStream({
        start(c) {
          timer = setInterval(() => c.enqueue(enc.encode('data: tick\n\n')), 40)
        },
        cancel() {
          clearInterval(timer)
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  }
  if (path === '/count') {
    let n = 0
    for await (const chunk of req.body ?? []) n += chunk.byteLength
    return new Response(String(n))
  }
  return new Response('hello world')
})
const to = (path: string) => ({ url: `${up.url}${path}`, credential: null })
const get = { method: 'GET', headers: new Headers(), body: null }
const rules = TRANSPARENT_HEADERS.request
/** What every call names: its lane and the work it belongs to. */
const call = { lane: 'relay' as const, trace: h.deps.tracer.root('test') }

async function drain(res: Response): Promise<{ text: string; error: unknown }> {
  let text = ''
  try {
    for await (const chunk of res.body!) text += new TextDecoder().decode(chunk)
    return { text, error: null }
  } catch (e) {
    return { text, error: e }
  }
}

describe('forwarding engine: send', () => {
  test('no byte before the answer within the idle time: a timeout, and the upstream is let go', async () => {
    const before = aborted
    const sent = await forward.send(to('/silent'), get, { ...call, rules, timeoutMs: 30_000, idleMs: 300 })
    expect(sent.ok).toBe(false)
    if (!sent.ok) expect(sent.kind).toBe('timeout')
    await Bun.sleep(50)
    expect(aborted).toBe(before + 1)
  })

  test('an answer that stops streaming is cut after the idle time; what came before it arrived', async () => {
    const ends: { status: number | null; error: unknown; bytes: number }[] = []
    const sent = await forward.send(to('/stall'), get, {
      ...call,
      rules,
      timeoutMs: 30_000,
      idleMs: 300,
      onEnd: (e) => ends.push(e),
    })
    expect(sent.ok).toBe(true)
    if (!sent.ok) return
    const { text, error } = await drain(sent.response)
    expect(text).toBe('data: one\n\n')
    expect(error).not.toBeNull()
    expect(ends).toHaveLength(1)
    expect(ends[0]!.bytes).toBe(11)
  })

  test('a large answer of known length that stops half-way is cut after the idle time too', async () => {
    const sent = await forward.send(to('/half'), get, { ...call, rules, timeoutMs: 30_000, idleMs: 300 })
    expect(sent.ok).toBe(true)
    if (!sent.ok) return
    let bytes = 0
    let error: unknown = null
    try {
      for await (const c of sent.response.body!) bytes += c.byteLength
    } catch (e) {
      error = e
    }
    expect(bytes).toBe(100_000)
    expect(error).not.toBeNull()
  })

  test('a stream that keeps flowing is not idle, but the total deadline ends it', async () => {
    const sent = await forward.send(to('/trickle'), get, {
      ...call,
      rules,
      timeoutMs: 30_000,
      idleMs: 300,
      totalMs: 900,
    })
    expect(sent.ok).toBe(true)
    if (!sent.ok) return
    const { text, error } = await drain(sent.response)
    // Many ticks passed (none 300 ms apart), then the deadline cut the stream.
    expect(text.split('tick').length - 1).toBeGreaterThan(3)
    expect(error).not.toBeNull()
  })

  test('a chunked body over the cap fails as too_large; one under it arrives whole', async () => {
    const body = (n: number) =>
      new ReadableStream({
        start(c) {
          for (let i = 0; i < n; i++) c.enqueue(new Uint8Array(1024).fill(120))
          c.close()
        },
      })
    const post = (n: number) => ({ method: 'POST', headers: new Headers(), body: body(n) })
    const over = await forward.send(to('/count'), post(8), {
      ...call,
      rules,
      timeoutMs: 30_000,
      maxBodyBytes: 4096,
    })
    expect(over.ok).toBe(false)
    if (!over.ok) expect(over).toMatchObject({ kind: 'too_large', limitBytes: 4096 })
    const under = await forward.send(to('/count'), post(4), {
      ...call,
      rules,
      timeoutMs: 30_000,
      maxBodyBytes: 4096,
    })
    expect(under.ok).toBe(true)
    if (under.ok) expect(await under.response.text()).toBe('4096')
  })

  test('the end hook runs once, with the bytes of a complete answer and no error', async () => {
    const ends: { status: number | null; error: unknown; bytes: number }[] = []
    const sent = await forward.send(to('/'), get, {
      ...call,
      rules,
      timeoutMs: 30_000,
      onEnd: (e) => ends.push(e),
    })
    expect(sent.ok).toBe(true)
    if (sent.ok) expect(await sent.response.text()).toBe('hello world')
    expect(ends).toEqual([{ status: 200, error: null, bytes: 11 }])
  })

  test('a path that would leave the destination is refused before anything is sent', async () => {
    await expect(
      forward.send(
        to('/api'),
        { ...get, path: { rest: '/../admin', search: '' } },
        { ...call, rules, timeoutMs: 1000 },
      ),
    ).rejects.toMatchObject({ code: 'invalid_request' })
  })
})
