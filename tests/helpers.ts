import { afterAll } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Config, loadConfig } from '../src/config'
import type { Deps } from '../src/deps'
import { type App, createApp } from '../src/http/app'
import type { Clock } from '../src/lib/clock'
import type { Logger } from '../src/lib/log'
import { createWorkspace } from '../src/modules/workspaces/service'
import { buildDeps } from '../src/server'

export const onPostgres = (process.env.DATABASE_URL ?? '').startsWith('postgres')

/** A master key for tests (never used outside them). */
export const TEST_MASTER_KEY = 'a'.repeat(64)
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123'

export function tempDir(prefix = 'sb-test-') {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Config for one suite: its own SQLite file, or the shared Postgres database. */
export function testConfig(env: Record<string, string> = {}): Config {
  const database = onPostgres ? process.env.DATABASE_URL! : `sqlite:${join(tempDir(), 'switchboard.db')}`
  return loadConfig({
    DATABASE_URL: database,
    SWITCHBOARD_MASTER_KEY: TEST_MASTER_KEY,
    SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
    SWITCHBOARD_LOG_LEVEL: process.env.SWITCHBOARD_LOG_LEVEL ?? 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    // Suites share one client address under app.handle; rate-limit tests turn these back on.
    SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0',
    SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '0',
    SWITCHBOARD_RATE_LIMIT_RELAY_IP_PER_SECOND: '0',
    SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_PER_SECOND: '0',
    // Upstream agents in tests are local servers.
    SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
    ...env,
  })
}

/** A controllable clock. */
export class TestClock implements Clock {
  constructor(private t = Date.now()) {}
  now() {
    return new Date(this.t)
  }
  advance(ms: number) {
    this.t += ms
  }
}

export type Res<T = any> = { status: number; body: T; headers: Headers; text: string }

export type Harness = {
  deps: Deps
  app: App
  call<T = any>(method: string, path: string, opts?: CallOpts): Promise<Res<T>>
  workspace(name?: string): Promise<{ id: string; key: string }>
}
type CallOpts = { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }

/** A suite's app, driven through `app.handle(new Request(...))`, closed after the suite. */
export async function harness(
  opts: { env?: Record<string, string>; clock?: Clock; log?: Logger } = {},
): Promise<Harness> {
  const deps = await buildDeps(testConfig(opts.env), {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  })
  const app = createApp(deps)
  afterAll(async () => {
    await deps.activity.stop().catch(() => {})
    await deps.heartbeats.stop().catch(() => {})
    await deps.db.close()
  })
  const call = async (method: string, path: string, o: CallOpts = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
    let body: string | undefined
    if (o.raw !== undefined) body = o.raw
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body)
      headers['content-type'] ??= 'application/json'
    }
    const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }))
    const text = await res.text()
    // Elysia runs after-response hooks (logging, metrics) in a setImmediate; let them run.
    await new Promise((r) => setImmediate(r))
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {}
    return { status: res.status, body: parsed as any, headers: res.headers, text }
  }
  return { deps, app, call, workspace: (name?: string) => newWorkspace(deps, name) }
}

/** A workspace of its own for a suite (name unique across runs); its key is returned once. */
export async function newWorkspace(deps: Deps, name = `ws-${crypto.randomUUID().slice(0, 12)}`) {
  const { workspace, apiKey } = await createWorkspace({ deps, actor: { kind: 'admin' }, input: { name } })
  return { id: workspace.id, key: apiKey }
}

/** Registers an agent through the API and returns its id, permanent id and token. */
export async function registerAgent(h: Harness, key: string, body: Record<string, unknown> = {}) {
  const res = await h.call('POST', '/api/agents', { token: key, body: { name: 'agent', ...body } })
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`)
  return {
    id: res.body.agent.id as string,
    permanentId: res.body.agent.permanentId as string,
    token: res.body.token as string,
    agent: res.body.agent,
  }
}

/** The real server on a free port (for streaming, disconnects and WebSockets), stopped after the suite. */
export async function liveServer(opts: { env?: Record<string, string>; clock?: Clock; log?: Logger } = {}) {
  const { startServer } = await import('../src/server')
  const running = await startServer(testConfig({ SWITCHBOARD_BOOTSTRAP: 'false', ...opts.env }), {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  })
  afterAll(() => running.stop())
  const fetchJson = async (method: string, path: string, o: CallOpts = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
    const res = await fetch(`${running.url}${path}`, {
      method,
      headers,
      body: o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined),
    })
    const text = await res.text()
    let body: any = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body, headers: res.headers, text }
  }
  return { ...running, running, call: fetchJson, workspace: () => newWorkspace(running.deps) }
}

/** A local upstream agent: a Bun.serve on 127.0.0.1 that the test controls, stopped after the suite. */
export function upstream(
  fetch: (req: Request, server: Bun.Server<undefined>) => Response | Promise<Response>,
) {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch, idleTimeout: 0 })
  afterAll(() => server.stop(true))
  return { server, url: `http://127.0.0.1:${server.port}` }
}
