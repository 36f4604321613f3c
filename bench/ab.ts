/**
 * bun bench/ab.ts A_BINARY B_BINARY — the sync lane of two compiled binaries against one local
 * upstream, alternating in each round (lib.ts `rounds`), with the per-round ratio B/A of
 * throughput and of CPU per request. For "what did this change cost": build the commit before
 * and the commit after into two worktrees and pass their dist/switchboard. Both run on fresh
 * SQLite databases with the same settings; BENCH_SECONDS, BENCH_ROUNDS and BENCH_CONNECTIONS
 * (64) as elsewhere. BENCH_AB_ROUTE picks the hot path: sync (the default), relay (the OpenAI
 * relay's chat completions), heartbeat or me.
 */
import { join } from 'node:path'
import {
  ADMIN,
  type Contender,
  ensureTool,
  fmt,
  fmtSpread,
  loadAverage,
  rounds,
  startBun,
  startSwitchboard,
  tmp,
  wrkPost,
} from './lib'

const [a, b] = process.argv.slice(2)
if (!a || !b) {
  console.error('usage: bun bench/ab.ts A_BINARY B_BINARY')
  process.exit(2)
}
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const ROUTE = process.env.BENCH_AB_ROUTE ?? 'sync'
if (!['sync', 'relay', 'heartbeat', 'me'].includes(ROUTE)) {
  console.error('BENCH_AB_ROUTE is one of sync, relay, heartbeat, me')
  process.exit(2)
}
const BODY = '{"model":"bench","messages":[{"role":"user","content":"hello"}]}'

async function lane(binary: string, upstreamUrl: string) {
  const sb = await startSwitchboard(
    { DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}` },
    { cmd: [binary, 'serve'] },
  )
  const ws = await sb.post('/api/workspaces', ADMIN, { name: 'bench' })
  const caller = await sb.post('/api/agents', ws.apiKey, { name: 'caller' })
  const target = await sb.post('/api/agents', ws.apiKey, { name: 'target', endpointUrl: upstreamUrl })
  const conn = await sb.post('/api/connections', ws.apiKey, {
    agentId: caller.agent.id,
    targetAgentId: target.agent.id,
    type: 'private',
  })
  const llm = await sb.post('/api/agents', ws.apiKey, {
    name: 'llm',
    endpointCredential: 'sk-upstream-0123456789',
    externalInvocation: true,
    protocols: { openai: { enabled: true, url: upstreamUrl.replace(/\/$/, '') } },
  })
  const scripts: Record<string, string> = {
    sync: wrkPost(`/api/proxy/${conn.id}`, BODY, caller.token),
    relay: wrkPost(`/relay/${llm.agent.permanentId}/openai/v1/chat/completions`, BODY),
    heartbeat: wrkPost(`/api/agents/${caller.agent.id}/heartbeat`, '{"status":"online"}', caller.token),
    me: `wrk.headers["Authorization"] = "Bearer ${caller.token}"\nwrk.path = "/api/agents/me"`,
  }
  return { sb, script: scripts[ROUTE]! }
}

await ensureTool('wrk')
console.log(`A/B of ${ROUTE}: A=${a} B=${b}; load average ${loadAverage()}`)
const up = await startBun('bench/upstream.ts')
const A = await lane(a, `${up.url}/`)
const B = await lane(b, `${up.url}/`)
try {
  const contenders: Contender[] = [
    { name: 'A', url: A.sb.url, script: A.script, pids: [A.sb.proc.pid] },
    { name: 'B', url: B.sb.url, script: B.script, pids: [B.sb.proc.pid] },
  ]
  const runs = await rounds(contenders, CONNECTIONS)
  const rps = runs.B!.map((r, i) => r.rps / runs.A![i]!.rps)
  const cpu = runs.B!.map((r, i) => r.cpuUs / runs.A![i]!.cpuUs)
  for (const n of ['A', 'B']) for (const r of runs[n]!) console.log(`  ${n}  ${fmt(r)}`)
  console.log(`\nB/A throughput ${fmtSpread(rps, 3, '×')}; B/A CPU per request ${fmtSpread(cpu, 3, '×')}`)
} finally {
  A.sb.proc.kill()
  B.sb.proc.kill()
  up.proc.kill()
}
