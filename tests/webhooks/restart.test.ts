import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { ADMIN_TOKEN, onPostgres, TEST_MASTER_KEY, tempDir, upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'
import { verified } from './fixtures'

/**
 * Agent webhooks survive `kill -9` of a real Switchboard process in the middle of delivering
 * them: the next process on the same database sends what was left, each event at least once
 * under its own webhook-id, and a receiver that deduplicates on webhook-id sees each once.
 */
const root = join(import.meta.dir, '../..')
const database = onPostgres
  ? process.env.DATABASE_URL!
  : `sqlite:${join(tempDir('sb-webhook-restart-'), 'switchboard.db')}`
const procs: Bun.Subprocess[] = []
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL')
})

/** `bun src/main.ts serve` on a free port; resolves with its URL once it listens. */
async function start() {
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: database,
      SWITCHBOARD_MASTER_KEY: TEST_MASTER_KEY,
      SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_CALLBACK_RETRY_SCALE: '0.01',
      // A send cut by the kill is taken over after 3 s instead of a minute.
      SWITCHBOARD_OUTBOX_LEASE_SECONDS: '3',
      SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0',
      SWITCHBOARD_LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
    },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  procs.push(proc)
  let out = ''
  const reader = proc.stdout.getReader()
  const url = await new Promise<string>((resolve, reject) => {
    ;(async () => {
      let found = false
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return found ? undefined : reject(new Error(`switchboard exited early: ${out}`))
        out += new TextDecoder().decode(value)
        const m = found ? null : /"msg":"listening","url":"(http:\/\/[^"]+?)\/?"/.exec(out)
        if (m) {
          found = true
          resolve(m[1]!)
        }
        if (out.length > 100_000) out = out.slice(-10_000)
      }
    })()
  })
  return { proc, url }
}

const call = async (base: string, method: string, path: string, token?: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as any }
}

test('webhooks in flight at a kill -9 arrive after the restart: every event, deduplicable by webhook-id', async () => {
  type Hit = { path: string; headers: Record<string, string>; body: string }
  const hits: Hit[] = []
  let inside = 0
  const receiver = upstream(async (req) => {
    inside++
    try {
      const hit = {
        path: new URL(req.url).pathname,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
      }
      // Slow enough that the kill lands while a delivery is under way.
      await Bun.sleep(40)
      hits.push(hit)
      return new Response(null, { status: 204 })
    } finally {
      inside--
    }
  })

  const first = await start()
  const key = (
    await call(first.url, 'POST', '/api/workspaces', ADMIN_TOKEN, { name: `wh-${crypto.randomUUID()}` })
  ).body.apiKey as string
  const secret = (await call(first.url, 'GET', '/api/workspace/webhook-secret', key)).body.secret as string
  const agents = await Promise.all(
    ['a', 'b', 'c'].map(
      async (name) =>
        (await call(first.url, 'POST', '/api/agents', key, { name, webhookUrl: `${receiver.url}/${name}` }))
          .body.agent as { id: string },
    ),
  )
  const sender = (await call(first.url, 'POST', '/api/agents', key, { name: 'sender' })).body.agent
  const sent = new Map<string, string>()
  for (let n = 0; n < 10; n++) {
    for (const [i, a] of agents.entries()) {
      const res = await call(first.url, 'POST', `/api/agents/${sender.id}/messages/send`, key, {
        toAgentId: a.id,
        payload: { n },
      })
      expect(res.status).toBe(200)
      sent.set(res.body.messageId, ['/a', '/b', '/c'][i]!)
    }
  }

  // Some have arrived, one is being received right now: kill.
  await waitFor(async () => hits.length >= 4 && inside > 0, 'a delivery under way', 2000)
  first.proc.kill('SIGKILL')
  expect(await first.proc.exited).not.toBe(0)
  const beforeKill = hits.length

  const second = await start()
  const distinct = () => new Set(hits.map((h) => h.headers['webhook-id']))
  await waitFor(async () => distinct().size >= sent.size, 'every webhook after the restart', 2000)
  await waitFor(async () => inside === 0, 'the receiver idle')

  // Each event arrived, verified, at its own agent's URL; the receiver deduplicates on webhook-id.
  const byId = new Map<string, Hit[]>()
  for (const h of hits) byId.set(h.headers['webhook-id']!, [...(byId.get(h.headers['webhook-id']!) ?? []), h])
  const messages = new Set<string>()
  for (const [webhookId, copies] of byId) {
    const body = verified(secret, copies[0]!)
    expect(String(body.id)).toBe(webhookId)
    expect(body.type).toBe('message.received')
    expect(sent.get(body.data.messageId)).toBe(copies[0]!.path)
    messages.add(body.data.messageId)
    // A duplicate is the same delivery again: same path, same body.
    for (const c of copies) expect([c.path, c.body]).toEqual([copies[0]!.path, copies[0]!.body])
  }
  expect(messages).toEqual(new Set(sent.keys()))
  const duplicates = hits.length - byId.size
  // At most the sends cut by the kill (one per agent) came twice.
  console.log(
    `webhooks: ${sent.size} events, ${hits.length} requests, ${duplicates} duplicates (${beforeKill} before the kill)`,
  )
  expect(duplicates).toBeLessThanOrEqual(agents.length)
  // Each agent's webhooks arrived in event order (a repeat aside).
  for (const path of ['/a', '/b', '/c']) {
    const ids = [...new Set(hits.filter((h) => h.path === path).map((h) => Number(h.headers['webhook-id'])))]
    expect(ids).toEqual([...ids].sort((x, y) => x - y))
  }
  // The deliveries say delivered, as the new process sees them.
  for (const a of agents) {
    const list = (await call(second.url, 'GET', `/api/agents/${a.id}/webhook-deliveries?limit=100`, key)).body
    expect(list.deliveries).toHaveLength(10)
    expect(list.deliveries.every((d: any) => d.status === 'delivered')).toBe(true)
  }

  second.proc.kill('SIGTERM')
  expect(await second.proc.exited).toBe(0)
}, 60_000)
