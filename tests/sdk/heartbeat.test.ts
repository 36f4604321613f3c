import { describe, expect, test } from 'bun:test'
import { Switchboard, type SwitchboardError } from '../../sdk/src/index'
import { liveServer } from '../helpers'
import { waitFor } from '../jobs/fixtures'

/** The heartbeat loop against a real server: it beats, backs off, ends on a dead token, stops cleanly. */
const live = await liveServer()
const ws = await live.workspace()
const owner = new Switchboard({ baseUrl: live.url, token: ws.key })

/** An agent runtime whose every request is counted. */
async function runtime(name: string) {
  const { agent, token } = await owner.register({ name })
  const sent: string[] = []
  const sb = new Switchboard({
    baseUrl: live.url,
    token,
    fetch: (req) => {
      sent.push(`${req.method} ${new URL(req.url).pathname}`)
      return fetch(req)
    },
  })
  return { agent, token, sb, sent }
}

describe('SDK heartbeat loop', () => {
  test('beats with the status it is given; stop() sends offline once, then nothing more', async () => {
    const { agent, sb, sent } = await runtime('looper')
    let status: 'online' | 'idle' = 'online'
    const loop = sb.startHeartbeat({ intervalMs: 10, status: () => status })
    await waitFor(async () => loop.beats >= 2, 'two beats')
    status = 'idle'
    const before = loop.beats
    await waitFor(async () => loop.beats > before + 1 && loop.last?.status === 'idle', 'an idle beat')
    await loop.stop()
    expect(await loop.done).toBeNull()
    expect(loop.stopped).toBe(true)
    const afterStop = sent.length
    const stored = await live.call('GET', `/api/agents/${agent.id}`, { token: ws.key })
    expect(stored.body.presence).toBe('offline')
    // Quiet after stop: no timer is left behind.
    await Bun.sleep(100)
    expect(sent.length).toBe(afterStop)
    expect(
      sent.every((s) => s === 'GET /api/agents/me' || s === `POST /api/agents/${agent.id}/heartbeat`),
    ).toBe(true)
  })

  test('with no answer it backs off and keeps trying until stopped', async () => {
    const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const url = `http://127.0.0.1:${closed.port}`
    closed.stop(true)
    const errors: SwitchboardError[] = []
    const sb = new Switchboard({ baseUrl: url, token: 'tk_whatever' })
    const loop = sb.startHeartbeat({
      backoff: { baseMs: 5, maxMs: 10 },
      offlineOnStop: false,
      onError: (e) => errors.push(e),
    })
    await waitFor(async () => errors.length >= 3, 'three failed beats')
    expect(loop.stopped).toBe(false)
    await loop.stop()
    expect(await loop.done).toBeNull()
    expect(errors.every((e) => e.code === 'network_error' && e.retryable)).toBe(true)
  })

  test('a token that stops working ends the loop with the error, and sends nothing after', async () => {
    const { agent, sb, sent } = await runtime('rotated')
    const loop = sb.startHeartbeat({ intervalMs: 10 })
    await waitFor(async () => loop.beats >= 1, 'a beat')
    const rotated = await live.call('POST', `/api/agents/${agent.id}/rotate-token`, {
      token: ws.key,
      body: { graceSeconds: 0 },
    })
    expect(rotated.status).toBe(200)
    const ended = await loop.done
    expect({ status: ended?.status, code: ended?.code }).toEqual({ status: 401, code: 'unauthorized' })
    expect(loop.stopped).toBe(true)
    const count = sent.length
    await loop.stop()
    expect(sent.length).toBe(count)
  })
})
