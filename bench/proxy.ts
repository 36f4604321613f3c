/**
 * npm run bench:proxy — the sync lane and the OpenAI relay beside the alternatives, measured
 * in one run with wrk against a local upstream: direct; nginx proxy_pass; a bare
 * Bun.serve→fetch hop (buffered and streaming); the sync lane with auth, connection
 * resolution, credential injection and rate limiting on; the OpenAI relay (non-streamed, no
 * token: agent lookup, per-IP and per-agent limits, transparent headers). req/s and p50/p99 at
 * 10 and 64 connections, ratios; Switchboard's CPU per request on both; the time to the first
 * byte of a streamed answer, direct and through the relay; RSS after 10,000 upstream timeouts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureTool, fmt, root, rssMb, sh, startProcess, tmp, type WrkResult, wrk } from './lib'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789'
const BODY = '{"message":"hello from the benchmark"}'

async function freePort() {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port
  s.stop(true)
  return port
}

async function startBun(script: string, env: Record<string, string>) {
  const port = await freePort()
  const { proc } = await startProcess([process.execPath, script], {
    env: { PORT: String(port), ...env },
    ready: /listening/,
  })
  return { proc, url: `http://127.0.0.1:${port}` }
}

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
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => sh([nginx, '-c', conf, '-p', dir, '-s', 'stop'], { quiet: true }),
  }
}

async function startSwitchboard(upstreamUrl: string, env: Record<string, string> = {}) {
  const port = await freePort()
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}`,
      SWITCHBOARD_ADMIN_TOKEN: ADMIN,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      // On, but high enough that the benchmark measures the limiter's cost, not its refusals.
      SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_IP_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_IP_BURST: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_BURST: '1000000',
      ...env,
    },
    stdout: Bun.file('/dev/null'),
    stderr: 'inherit',
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {}
    await Bun.sleep(50)
  }
  const post = async (path: string, token: string, body: unknown) =>
    (await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json())) as any
  const ws = await post('/api/workspaces', ADMIN, { name: 'bench' })
  const caller = await post('/api/agents', ws.apiKey, { name: 'caller' })
  const target = await post('/api/agents', ws.apiKey, {
    name: 'target',
    endpointUrl: upstreamUrl,
    endpointCredential: 'upstream-api-key-0123456789',
  })
  const conn = await post('/api/connections', ws.apiKey, {
    agentId: caller.agent.id,
    targetAgentId: target.agent.id,
    type: 'private',
  })
  const relayed = await post('/api/agents', ws.apiKey, {
    name: 'relayed',
    externalInvocation: true,
    endpointCredential: 'upstream-api-key-0123456789',
    protocols: { openai: { enabled: true, url: upstreamUrl } },
  })
  return {
    proc,
    url,
    path: `/api/proxy/${conn.id}`,
    token: caller.token as string,
    relay: `/relay/${relayed.agent.permanentId}/openai`,
  }
}

const postScript = (path: string, token?: string) => `wrk.method = "POST"
wrk.body = '${BODY}'
wrk.headers["Content-Type"] = "application/json"
${token ? `wrk.headers["Authorization"] = "Bearer ${token}"` : ''}
wrk.path = "${path}"`

/** CPU time (user + system, from /proc) a process has used, in milliseconds. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / 100
}

/**
 * Switchboard's CPU per request over a fixed number of calls (10 at a time): unlike req/s it
 * hardly moves when other work shares the machine.
 */
async function cpuPerRequest(pid: number, url: string, headers: Record<string, string>) {
  const load = async (n: number) => {
    let left = n
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (left-- > 0)
          await (
            await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              body: BODY,
            })
          ).arrayBuffer()
      }),
    )
  }
  await load(2000)
  const before = cpuMs(pid)
  await load(20_000)
  return ((cpuMs(pid) - before) * 1000) / 20_000
}

/** Milliseconds from sending a request to the first byte of its streamed answer. */
async function ttfb(url: string): Promise<number> {
  const start = performance.now()
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
  })
  const reader = res.body!.getReader()
  await reader.read()
  const ms = performance.now() - start
  await reader.cancel()
  return ms
}

/** The time to the first byte of a streamed answer, direct and through the relay, one request at a time. */
async function firstByte(direct: string, relayed: string) {
  const N = 500
  const sample = async (url: string) => {
    for (let i = 0; i < 50; i++) await ttfb(url)
    const ms: number[] = []
    for (let i = 0; i < N; i++) ms.push(await ttfb(url))
    ms.sort((a, b) => a - b)
    return { p50: ms[Math.floor(N / 2)]!, p99: ms[Math.floor(N * 0.99)]! }
  }
  const d = await sample(direct)
  const r = await sample(relayed)
  console.log(
    `\ntime to first byte of a streamed answer (SSE, ${N} sequential requests): direct p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms; ` +
      `openai relay p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms; added p50 ${(r.p50 - d.p50).toFixed(2)} ms, p99 ${(r.p99 - d.p99).toFixed(2)} ms`,
  )
}

async function measure(url: string, script: string, connections: number): Promise<WrkResult> {
  await wrk(url, { connections, seconds: 2, script })
  return wrk(url, { connections, seconds: SECONDS, script })
}

await ensureTool('wrk')
const up = await startBun('bench/upstream.ts', {})
const nginx = await startNginx(Number(new URL(up.url).port))
const hopBuffer = await startBun('bench/hop.ts', { UPSTREAM: `${up.url}/`, HOP_MODE: 'buffer' })
const hopStream = await startBun('bench/hop.ts', { UPSTREAM: `${up.url}/`, HOP_MODE: 'stream' })
const sb = await startSwitchboard(`${up.url}/`)

const rows: Record<string, Record<number, WrkResult>> = {}
try {
  for (const c of [10, 64]) {
    console.log(`\n${c} connections, ${SECONDS}s each (wrk -t2), POST ${BODY.length}-byte JSON`)
    const run = async (name: string, url: string, script: string) => {
      const r = await measure(url, script, c)
      rows[name] ??= {}
      rows[name][c] = r
      console.log(`  ${name.padEnd(22)} ${fmt(r)}`)
    }
    await run('direct', up.url, postScript('/'))
    await run('nginx proxy_pass', nginx.url, postScript('/'))
    await run('bare hop (buffered)', hopBuffer.url, postScript('/'))
    await run('bare hop (streaming)', hopStream.url, postScript('/'))
    await run('sync lane', sb.url, postScript(sb.path, sb.token))
    await run('openai relay', sb.url, postScript(`${sb.relay}/v1/chat/completions`))
  }
  const lane = rows['sync lane']!
  console.log('\nratios (sync lane ÷ …)')
  for (const c of [10, 64]) {
    const r = (name: string) => (lane[c]!.rps / rows[name]![c]!.rps).toFixed(2)
    console.log(
      `  ${c} conns: ÷ nginx ${r('nginx proxy_pass')}   ÷ bare buffered hop ${r('bare hop (buffered)')}   ÷ bare streaming hop ${r('bare hop (streaming)')}`,
    )
  }
  const relay = rows['openai relay']!
  for (const c of [10, 64]) {
    const r = (name: string) => (relay[c]!.rps / rows[name]![c]!.rps).toFixed(2)
    console.log(
      `  ${c} conns: openai relay ÷ bare buffered hop ${r('bare hop (buffered)')}   ÷ nginx ${r('nginx proxy_pass')}   ÷ sync lane ${r('sync lane')}`,
    )
  }
  const d10 = rows.direct![10]!
  console.log(
    `  added latency over direct at 10 conns: sync lane p50 ${(lane[10]!.p50 - d10.p50).toFixed(2)} ms, p99 ${(lane[10]!.p99 - d10.p99).toFixed(2)} ms; openai relay p50 ${(relay[10]!.p50 - d10.p50).toFixed(2)} ms, p99 ${(relay[10]!.p99 - d10.p99).toFixed(2)} ms`,
  )
  const syncCpu = await cpuPerRequest(sb.proc.pid, `${sb.url}${sb.path}`, {
    authorization: `Bearer ${sb.token}`,
  })
  const relayCpu = await cpuPerRequest(sb.proc.pid, `${sb.url}${sb.relay}/v1/chat/completions`, {})
  console.log(
    `\nSwitchboard CPU per request (20,000 calls, 10 at a time): sync lane ${syncCpu.toFixed(1)} µs, openai relay ${relayCpu.toFixed(1)} µs`,
  )
  await firstByte(`${up.url}/sse`, `${sb.url}${sb.relay}/sse`)
} finally {
  sb.proc.kill('SIGTERM')
  hopBuffer.proc.kill()
  hopStream.proc.kill()
  await nginx.stop()
}

// Memory after 10,000 upstream timeouts: the aborted requests must not leave anything behind.
const tsb = await startSwitchboard(`${up.url}/hang`, { SWITCHBOARD_SYNC_TIMEOUT_MS: '200' })
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
  let sent = 0
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (sent < 10_000) {
        sent++
        await call()
      }
    }),
  )
  await Bun.sleep(5000)
  const after = rssMb(tsb.proc.pid)
  console.log(
    `\nRSS after 10,000 upstream timeouts: ${baseline.toFixed(1)} MB → ${after.toFixed(1)} MB (${(((after - baseline) / baseline) * 100).toFixed(1)}%)`,
  )
} finally {
  tsb.proc.kill('SIGTERM')
  up.proc.kill()
}
