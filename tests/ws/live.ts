import type { Clock } from '../../src/lib/clock'
import { liveServer as startLive } from '../helpers'

/**
 * A real Switchboard on a free port (HTTP, WebSockets, schedules), for the live-layer
 * suites. Schedules are set to a date that never comes unless a suite asks for them:
 * suites run sweeps themselves, so what they assert does not depend on timing.
 */
export const NEVER = '0 0 0 1 1 *'

export type Live = Awaited<ReturnType<typeof liveServer>>

export async function liveServer(env: Record<string, string> = {}, opts: { clock?: Clock } = {}) {
  const server = await startLive({
    env: {
      SWITCHBOARD_PRESENCE_SWEEP_CRON: NEVER,
      SWITCHBOARD_HEALTH_CRON: NEVER,
      SWITCHBOARD_RETENTION_CRON: NEVER,
      SWITCHBOARD_MESSAGE_PURGE_CRON: NEVER,
      SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: '1',
      ...env,
    },
    ...(opts.clock ? { clock: opts.clock } : {}),
  })
  const { running, call, workspace } = server
  const base = running.url
  const agent = async (key: string, body: Record<string, unknown> = {}) => {
    const res = await call('POST', '/api/agents', { token: key, body: { name: 'agent', ...body } })
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`)
    return {
      id: res.body.agent.id as string,
      permanentId: res.body.agent.permanentId as string,
      token: res.body.token as string,
    }
  }
  const heartbeat = (a: { id: string; token: string }, status: 'online' | 'idle' | 'offline' = 'online') =>
    call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status } })
  /** An upgrade request made with fetch, to see the HTTP answer to a refused upgrade. */
  const upgrade = (query = '', headers: Record<string, string> = {}) =>
    fetch(`${base}/api/ws${query}`, {
      headers: {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-key': btoa(crypto.randomUUID().slice(0, 16)),
        'sec-websocket-version': '13',
        ...headers,
      },
    })
  const wsUrl = `${base.replace(/^http/, 'ws')}/api/ws`
  const socket = (query = '', headers?: Record<string, string>) =>
    TestSocket.open(`${wsUrl}${query}`, headers)
  return { running, deps: running.deps, base, wsUrl, call, workspace, agent, heartbeat, upgrade, socket }
}

export type Frame = { id?: number; type: string; at?: string; data?: any; [k: string]: any }

/** A real WebSocket client that keeps every frame it gets. */
export class TestSocket {
  readonly frames: Frame[] = []
  closeInfo: { code: number; reason: string } | null = null
  private waiters = new Set<() => void>()
  readonly closed: Promise<{ code: number; reason: string }>

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      this.frames.push(JSON.parse(String(e.data)))
      this.notify()
    }
    this.closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        this.closeInfo = { code: e.code, reason: e.reason }
        resolve(this.closeInfo)
        this.notify()
      }
    })
  }

  static async open(url: string, headers?: Record<string, string>): Promise<TestSocket> {
    const ws = new WebSocket(url, headers ? { headers } : undefined)
    const s = new TestSocket(ws)
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = (e) => reject(new Error(`websocket failed: ${(e as ErrorEvent).message ?? 'error'}`))
    })
    return s
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Event frames (those with an id), in arrival order. */
  get events(): Frame[] {
    return this.frames.filter((f) => typeof f.id === 'number')
  }

  /** Waits until a frame matches (generous deadline; the test asserts content, not time). */
  async until(pred: (f: Frame) => boolean, ms = 10_000): Promise<Frame> {
    const found = await this.waitFor(() => this.frames.find(pred), ms)
    if (!found) throw new Error(`no matching frame; got ${JSON.stringify(this.frames.slice(-5))}`)
    return found
  }

  /** Waits until `n` event frames match. */
  async eventsMatching(pred: (f: Frame) => boolean, n: number, ms = 10_000): Promise<Frame[]> {
    const got = await this.waitFor(() => {
      const list = this.events.filter(pred)
      return list.length >= n ? list : undefined
    }, ms)
    if (!got) throw new Error(`expected ${n} events, got ${this.events.filter(pred).length}`)
    return got
  }

  ready() {
    return this.until((f) => f.type === 'ready')
  }

  async close() {
    if (!this.closeInfo) this.ws.close(1000)
    return this.closed
  }

  private waitFor<T>(probe: () => T | undefined, ms: number): Promise<T | undefined> {
    const now = probe()
    if (now !== undefined) return Promise.resolve(now)
    return new Promise((resolve) => {
      const check = () => {
        const v = probe()
        if (v !== undefined || this.closeInfo) {
          done(v)
        }
      }
      const timer = setTimeout(() => done(probe()), ms)
      const done = (v: T | undefined) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve(v)
      }
      this.waiters.add(check)
    })
  }

  private notify() {
    for (const w of [...this.waiters]) w()
  }
}

/** Polls until `probe` returns something (generous deadline). */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await Bun.sleep(20)
  }
}
