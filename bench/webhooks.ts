/**
 * npm run bench:webhooks — the compiled binary's two webhook paths against local servers:
 * 1. `POST /hooks/{id}` with a GitHub-style HMAC (a fresh delivery id each call, so each makes
 *    a job), with wrk at 10 connections: accepted calls per second and latency to the 202;
 * 2. agent webhooks: N messages sent to each of 20 agents with a webhook URL; the time until
 *    the receiver has every one (the outbox drained), so deliveries per second, and whether
 *    each agent's arrived in event order.
 * SQLite unless DATABASE_URL says Postgres. Numbers depend on the machine: compare runs.
 */
import { createHmac } from 'node:crypto'
import { build, loadAverage, seedAgents, startSwitchboard, wrk } from './lib'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const PER_AGENT = Number(process.env.BENCH_EVENTS ?? 100)

if (!process.env.BENCH_NO_BUILD) await build()
const sb = await startSwitchboard({
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  SWITCHBOARD_RATE_LIMIT_TRIGGER_PER_SECOND: '1000000',
  SWITCHBOARD_RATE_LIMIT_TRIGGER_BURST: '1000000',
  SWITCHBOARD_RATE_LIMIT_HOOK_IP_PER_SECOND: '1000000',
  SWITCHBOARD_RATE_LIMIT_HOOK_IP_BURST: '1000000',
})
const agentUp = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ ok: true }) })
const seen = new Map<string, number[]>()
const receiver = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const path = new URL(req.url).pathname
    await req.arrayBuffer()
    const list = seen.get(path) ?? []
    list.push(Number(req.headers.get('webhook-id')))
    seen.set(path, list)
    return new Response(null, { status: 204 })
  },
})
try {
  console.log(`load average before: ${loadAverage()}`)
  // 1. Trigger calls.
  const { key, agents } = await seedAgents(sb, 1, { endpointUrl: `http://127.0.0.1:${agentUp.port}/` })
  const secret = 'bench-shared-secret-0123456789'
  const made = await sb.post<{ trigger: { id: string } }>('/api/triggers', key, {
    name: 'bench',
    agentId: agents[0]!.id,
    verify: { type: 'hmac_sha256', secret },
  })
  const body = '{"ref":"refs/heads/main","commits":[{"id":"abc"}]}'
  const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
  const script = `
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {
    ["content-type"] = "application/json",
    ["x-hub-signature-256"] = "${sig}",
    ["x-github-delivery"] = "d-" .. math.random(1, 2^31) .. "-" .. counter,
  }, '${body}')
end`
  const hooks = await wrk(`${sb.url}/hooks/${made.trigger.id}`, {
    connections: 10,
    seconds: SECONDS,
    script,
    pids: [sb.proc.pid],
  })
  console.log(
    `POST /hooks (HMAC, a job each): ${hooks.rps.toFixed(0)} req/s, p50 ${hooks.p50.toFixed(2)} ms, ` +
      `p99 ${hooks.p99.toFixed(2)} ms, errors ${hooks.errors}, ${hooks.cpuUs.toFixed(0)} µs CPU/request`,
  )

  // 2. Agent webhooks.
  const hooked = await seedAgents(sb, 20)
  for (const [i, a] of hooked.agents.entries()) {
    await fetch(`${sb.url}/api/agents/${a.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${hooked.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        webhookUrl: `http://127.0.0.1:${receiver.port}/a${i}`,
        webhookEvents: ['message.received'],
      }),
    })
  }
  const sender = hooked.agents[0]!
  const started = performance.now()
  for (let n = 0; n < PER_AGENT; n++)
    await Promise.all(
      hooked.agents.map((a) =>
        sb.post(`/api/agents/${sender.id}/messages/send`, hooked.key, { toAgentId: a.id, payload: { n } }),
      ),
    )
  const sentMs = performance.now() - started
  const total = PER_AGENT * hooked.agents.length
  const count = () => [...seen.values()].reduce((s, l) => s + l.length, 0)
  while (count() < total) {
    if (performance.now() - started > 300_000) throw new Error(`only ${count()} of ${total} arrived`)
    await Bun.sleep(20)
  }
  const ms = performance.now() - started
  const ordered = [...seen.values()].every((l) => l.every((v, i) => i === 0 || v > l[i - 1]!))
  console.log(
    `agent webhooks: ${total} events to ${hooked.agents.length} agents sent in ${(sentMs / 1000).toFixed(1)} s, ` +
      `all received after ${(ms / 1000).toFixed(1)} s (${((total * 1000) / ms).toFixed(0)} deliveries/s), ` +
      `each agent in event order: ${ordered}`,
  )
  console.log(`load average after: ${loadAverage()}`)
} finally {
  await sb.stop()
  agentUp.stop(true)
  receiver.stop(true)
}
