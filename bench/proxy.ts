/**
 * npm run bench:proxy — the sync lane and the OpenAI relay of the compiled binary beside the
 * alternatives, against one local upstream (a small JSON answer), with wrk: direct; nginx
 * proxy_pass (1 worker, keepalive); a bare Bun.serve→fetch hop (buffered and streaming); the
 * sync lane with auth, connection resolution, credential injection and rate limiting on; the
 * OpenAI relay (no token, per-IP and per-agent limits on). At 10 and 64 connections, in
 * alternating rounds (lib.ts); the ratios are taken within each round. Then the time to first
 * byte of a streamed answer through the relay and through the bare hop, and RSS after 10,000
 * and after 30,000 upstream timeouts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ADMIN,
  build,
  type Contender,
  ensureTool,
  fmt,
  fmtSpread,
  freePort,
  loadAverage,
  medianOf,
  ROUNDS,
  ratios,
  rounds,
  rssMb,
  SECONDS,
  sh,
  spread,
  startBun,
  startSwitchboard,
  tmp,
  wrkPost,
} from './lib'

const BODY = '{"model":"bench","messages":[{"role":"user","content":"hello"}]}'

async function startNginx(upstreamPort: number) {
  await ensureTool('nginx', 'nginx-light')
  const dir = tmp('sb-nginx-')
  mkdirSync(join(dir, 'logs'))
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream agent { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://agent;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  )
  const nginx = Bun.which('nginx') ?? '/usr/sbin/nginx'
  await sh([nginx, '-c', conf, '-p', dir])
  await Bun.sleep(200)
  const master = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim())
  const workers = (await sh(['pgrep', '-P', String(master)])).out.trim().split('\n').map(Number)
  return {
    url: `http://127.0.0.1:${port}`,
    pids: workers,
    stop: () => sh([nginx, '-c', conf, '-p', dir, '-s', 'stop'], { quiet: true }),
  }
}

/** Switchboard with a caller, a target on the upstream and a connection; a relayed OpenAI agent. */
async function startLane(upstreamUrl: string, env: Record<string, string> = {}) {
  const sb = await startSwitchboard({ DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}`, ...env })
  const ws = await sb.post('/api/workspaces', ADMIN, { name: 'bench' })
  const caller = await sb.post('/api/agents', ws.apiKey, { name: 'caller' })
  const target = await sb.post('/api/agents', ws.apiKey, {
    name: 'target',
    endpointUrl: upstreamUrl,
    endpointCredential: 'upstream-api-key-0123456789',
  })
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
  return {
    ...sb,
    path: `/api/proxy/${conn.id}`,
    token: caller.token as string,
    relayPath: `/relay/${llm.agent.permanentId}/openai/v1/chat/completions`,
  }
}

const postScript = (path: string, token?: string) => wrkPost(path, BODY, token)

/** Time to first byte of a streamed answer, one request at a time: median and p99 in ms. */
async function ttfb(url: string, n = 300) {
  const times: number[] = []
  for (let i = 0; i < n + 20; i++) {
    const t = performance.now()
    const res = await fetch(url, { method: 'POST', body: '{"stream":true}' })
    const reader = res.body!.getReader()
    await reader.read()
    if (i >= 20) times.push(performance.now() - t)
    await reader.cancel()
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(n / 2)]!, p99: times[Math.floor(n * 0.99)]! }
}

await ensureTool('wrk')
await build()
console.log(`proxy benchmark of dist/switchboard; load average ${loadAverage()}`)
const up = await startBun('bench/upstream.ts')
const nginx = await startNginx(up.port)
const hopBuffer = await startBun('bench/hop.ts', { UPSTREAM: `${up.url}/`, HOP_MODE: 'buffer' })
const hopStream = await startBun('bench/hop.ts', { UPSTREAM: `${up.url}/`, HOP_MODE: 'stream' })
const sb = await startLane(`${up.url}/`)

const results: Record<number, Awaited<ReturnType<typeof rounds>>> = {}
try {
  for (const c of [10, 64]) {
    console.log(`\n${c} connections, ${SECONDS} s a run, ${ROUNDS} rounds, POST ${BODY.length}-byte JSON`)
    const contenders: Contender[] = [
      { name: 'direct', url: up.url, script: postScript('/'), pids: [up.proc.pid] },
      { name: 'nginx proxy_pass', url: nginx.url, script: postScript('/'), pids: nginx.pids },
      {
        name: 'bare hop (buffered)',
        url: hopBuffer.url,
        script: postScript('/'),
        pids: [hopBuffer.proc.pid],
      },
      {
        name: 'bare hop (streaming)',
        url: hopStream.url,
        script: postScript('/'),
        pids: [hopStream.proc.pid],
      },
      { name: 'sync lane', url: sb.url, script: postScript(sb.path, sb.token), pids: [sb.proc.pid] },
      { name: 'OpenAI relay', url: sb.url, script: postScript(sb.relayPath), pids: [sb.proc.pid] },
    ]
    results[c] = await rounds(contenders, c)
    for (const [name, r] of Object.entries(results[c]!))
      console.log(`  median  ${name.padEnd(28)} ${fmt(medianOf(r))}`)
  }
} finally {
  hopBuffer.proc.kill()
  await nginx.stop()
}

// Streamed answers: what the relay adds to the time to the first event.
const sseUp = await startBun('bench/upstream.ts', { UPSTREAM_MODE: 'sse' })
const sseHop = await startBun('bench/hop.ts', { UPSTREAM: `${sseUp.url}/`, HOP_MODE: 'stream' })
const sseSb = await startLane(`${sseUp.url}/`)
const ttfbRuns = { direct: [] as number[], hop: [] as number[], relay: [] as number[] }
try {
  for (let r = 0; r < ROUNDS; r++) {
    ttfbRuns.direct.push((await ttfb(`${sseUp.url}/`)).p50)
    ttfbRuns.hop.push((await ttfb(`${sseHop.url}/`)).p50)
    ttfbRuns.relay.push((await ttfb(`${sseSb.url}${sseSb.relayPath}`)).p50)
  }
} finally {
  sseHop.proc.kill()
  await sseSb.stop()
  sseUp.proc.kill()
}

// Memory after 10,000 upstream timeouts: the aborted requests must not leave anything behind.
const tsb = await startLane(`${up.url}/hang`, { SWITCHBOARD_SYNC_TIMEOUT_MS: '200' })
let rssLine = ''
try {
  const call = () =>
    fetch(`${tsb.url}${tsb.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tsb.token}` },
      body: BODY,
    })
      .then((r) => r.arrayBuffer())
      .catch(() => {})
  await Promise.all(Array.from({ length: 200 }, call))
  await Bun.sleep(2000)
  const baseline = rssMb(tsb.proc.pid)
  // Twice: a leak grows with the count, the allocator's high-water mark of 200 calls in flight
  // does not (measured: +38 % after 10,000, +28 % after 40,000, the JS heap flat at 26-29 MB).
  let sent = 0
  const marks: string[] = []
  for (const goal of [10_000, 30_000]) {
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (sent < goal) {
          sent++
          await call()
        }
      }),
    )
    await Bun.sleep(5000)
    const after = rssMb(tsb.proc.pid)
    marks.push(
      `${goal.toLocaleString('en')}: ${after.toFixed(1)} MB (${(((after - baseline) / baseline) * 100).toFixed(1)}%)`,
    )
  }
  rssLine = `RSS after upstream timeouts (200 in flight): ${baseline.toFixed(1)} MB before; after ${marks.join(', after ')}`
} finally {
  await tsb.stop()
  await sb.stop()
  hopStream.proc.kill()
  up.proc.kill()
}

const goal = (what: string, values: number[], ok: (median: number) => boolean, unit = '×') =>
  console.log(
    `  ${what.padEnd(46)} ${fmtSpread(values, 2, unit)} ${ok(spread(values).median) ? 'met' : 'NOT met'}`,
  )
console.log(`\ngoals (median of ${ROUNDS} rounds, range in brackets; load average now ${loadAverage()})`)
for (const c of [10, 64]) {
  const r = results[c]!
  console.log(`  ${c} connections`)
  goal(
    'sync lane ÷ bare hop (buffered), req/s ≥ 0.9',
    ratios(r, 'sync lane', 'bare hop (buffered)'),
    (m) => m >= 0.9,
  )
  goal('sync lane ÷ bare hop (streaming), req/s', ratios(r, 'sync lane', 'bare hop (streaming)'), () => true)
  goal('sync lane ÷ nginx, req/s ≥ 0.5', ratios(r, 'sync lane', 'nginx proxy_pass'), (m) => m >= 0.5)
  goal(
    'bare hop ÷ sync lane, CPU per request',
    ratios(r, 'bare hop (buffered)', 'sync lane', (x) => x.cpuUs),
    () => true,
  )
  goal(
    'OpenAI relay ÷ bare hop (buffered), req/s ≥ 0.9',
    ratios(r, 'OpenAI relay', 'bare hop (buffered)'),
    (m) => m >= 0.9,
  )
}
const added = (p: 'p50' | 'p99') => {
  const r = results[10]!
  return r['sync lane']!.map((x, i) => x[p] - r.direct![i]![p])
}
goal('added latency over direct at 10 conns, p50 ≤ 1 ms', added('p50'), (m) => m <= 1, ' ms')
goal('added latency over direct at 10 conns, p99 ≤ 3 ms', added('p99'), (m) => m <= 3, ' ms')
goal(
  'streamed relay: time to first byte added over the bare hop ≤ 1 ms',
  ttfbRuns.relay.map((x, i) => x - ttfbRuns.hop[i]!),
  (m) => m <= 1,
  ' ms',
)
console.log(
  `  (time to first byte, p50: direct ${fmtSpread(ttfbRuns.direct, 2, ' ms')}, bare hop ${fmtSpread(ttfbRuns.hop, 2, ' ms')}, relay ${fmtSpread(ttfbRuns.relay, 2, ' ms')})`,
)
console.log(`  ${rssLine}`)
process.exit(0)
