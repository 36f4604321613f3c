/**
 * npm run bench:profile — where Switchboard spends its CPU on the hot paths: the server runs
 * from source under Bun's CPU profiler (`bun --cpu-prof src/main.ts serve`, so frames name
 * their source file and line; the compiled binary runs the same code) while wrk drives one
 * route at 64 connections, and the top frames by self and total time are printed.
 * BENCH_SECONDS (10), BENCH_PROFILE=sync,heartbeat,me,healthz (or relay: the OpenAI relay; app: an app connection execute). The profiles are kept in the
 * printed directory (open them in Chrome DevTools or speedscope).
 *
 * Read native frames with care: the samples are taken on wall time and a native call's share
 * is not its CPU. On /me the profile gave 30–35 % to bun:sqlite's `run` (BEGIN and COMMIT),
 * which Bun.nanoseconds around them put at 0.4 and 1.8 µs of a 65 µs request. Time a native
 * call directly before acting on its share here; JS frames' shares hold.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { printFrames, summarise } from './cpuprofile'
import {
  ADMIN,
  ensureTool,
  fmt,
  freePort,
  loadAverage,
  startProcess,
  startSwitchboard,
  tmp,
  wrk,
  wrkPost,
} from './lib'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WHICH = (process.env.BENCH_PROFILE ?? 'sync,heartbeat,me,healthz').split(',')

await ensureTool('wrk')
const upPort = await freePort()
const up = await startProcess([process.execPath, 'bench/upstream.ts'], {
  env: { PORT: String(upPort) },
  ready: /listening/,
})
const dir = tmp('sb-prof-')
console.log(`profiles in ${dir}; load ${loadAverage()}`)

for (const scenario of WHICH) {
  const out = join(dir, scenario)
  const sb = await startSwitchboard(
    { DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}` },
    { cmd: [process.execPath, 'src/main.ts', 'serve'], profileDir: out },
  )
  const ws = await sb.post('/api/workspaces', ADMIN, { name: 'prof' })
  const caller = await sb.post('/api/agents', ws.apiKey, { name: 'caller' })
  const target = await sb.post('/api/agents', ws.apiKey, {
    name: 'target',
    endpointUrl: `http://127.0.0.1:${upPort}/`,
    endpointCredential: 'upstream-api-key-0123456789',
  })
  const conn = await sb.post('/api/connections', ws.apiKey, {
    agentId: caller.agent.id,
    targetAgentId: target.agent.id,
    type: 'private',
  })
  const app = await sb.post('/api/app-connections', ws.apiKey, {
    name: 'app',
    baseUrl: `http://127.0.0.1:${upPort}/v2`,
    auth: { type: 'bearer', value: 'upstream-api-key-0123456789' },
  })
  const llm = await sb.post('/api/agents', ws.apiKey, {
    name: 'llm',
    endpointCredential: 'sk-upstream-0123456789',
    externalInvocation: true,
    protocols: { openai: { enabled: true, url: `http://127.0.0.1:${upPort}` } },
  })
  const execute = JSON.stringify({
    method: 'POST',
    path: '/contacts',
    query: { q: 'ada' },
    body: { name: 'Ada' },
  })
  const auth = `wrk.headers["Authorization"] = "Bearer ${caller.token}"`
  const scripts: Record<string, string> = {
    sync: wrkPost(`/api/proxy/${conn.id}`, '{"message":"hello"}', caller.token),
    heartbeat: wrkPost(`/api/agents/${caller.agent.id}/heartbeat`, '{"status":"online"}', caller.token),
    me: `${auth}\nwrk.path = "/api/agents/me"`,
    healthz: 'wrk.path = "/healthz"',
    relay: wrkPost(
      `/relay/${llm.agent.permanentId}/openai/v1/chat/completions`,
      '{"model":"bench","messages":[{"role":"user","content":"hello"}]}',
    ),
    app: wrkPost(`/api/agents/${caller.agent.id}/app-connections/${app.id}/execute`, execute, caller.token),
  }
  const r = await wrk(sb.url, { connections: 64, seconds: SECONDS, script: scripts[scenario]! })
  await sb.stop()
  const file = readdirSync(out).find((f) => f.endsWith('.cpuprofile'))!
  const s = summarise(join(out, file), 25)
  console.log(`\n${scenario}: ${fmt(r)}   (${join(out, file)})`)
  printFrames('self time', s.self)
  printFrames('total time', s.total)
}
up.proc.kill()
