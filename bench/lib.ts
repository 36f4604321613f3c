/**
 * Shared pieces of the benchmarks: installing wrk, starting servers in their own
 * processes, running wrk and reading its figures. Run on demand, never from `bun test`.
 *
 * The machine the benches run on is usually shared (2 cores, other test suites): a single
 * figure says little. So every comparison is measured in rounds that alternate the
 * contenders (A B A B …), each ratio is taken within a round, and the median and range of
 * the rounds are printed (BENCH_ROUNDS, default 3), with the load average at the start.
 * Beside req/s every server's CPU per request is read from /proc: it moves far less with
 * the machine's load than throughput does.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const root = join(import.meta.dir, '..')
export const tmp = (p = 'sb-bench-') => mkdtempSync(join(tmpdir(), p))
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
export const ADMIN = 'bench-admin-token-0123456789abcdef0123456789'
export const binary = join(root, 'dist/switchboard')

export async function sh(cmd: string[], opts: { quiet?: boolean; env?: Record<string, string> } = {}) {
  const p = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...opts.env } })
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ])
  if (code !== 0 && !opts.quiet) throw new Error(`${cmd.join(' ')} failed (${code}): ${err || out}`)
  return { out, err, code }
}

/** Installs a Debian package's binary when it is missing (the benchmarks need wrk, and nginx for the proxy one). */
export async function ensureTool(bin: string, pkg = bin) {
  if (Bun.which(bin) || Bun.which(`/usr/sbin/${bin}`)) return
  console.log(`installing ${pkg}…`)
  await sh(['apt-get', 'update', '-qq'])
  await sh(['apt-get', 'install', '-y', '-qq', pkg], { env: { DEBIAN_FRONTEND: 'noninteractive' } })
}

/** Builds the compiled binary the benches measure (`npm run build`). */
export async function build() {
  await sh(['npm', 'run', 'build'], {
    env: { PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` },
  })
}

export type WrkResult = {
  rps: number
  p50: number
  p99: number
  errors: number
  /** Server CPU per request in µs (user + system of the pids given), NaN when none were. */
  cpuUs: number
}

/** user + system CPU seconds of a process so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Runs wrk and returns requests/s, p50/p99 latency in milliseconds, and the servers' CPU per request. */
export async function wrk(
  url: string,
  o: { connections: number; seconds: number; threads?: number; script?: string; pids?: number[] },
): Promise<WrkResult> {
  const args = ['wrk', `-t${o.threads ?? 2}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency']
  if (o.script) {
    const f = join(tmp('sb-wrk-'), 'script.lua')
    writeFileSync(f, o.script)
    args.push('-s', f)
  }
  args.push(url)
  const cpu = () => (o.pids ?? []).reduce((s, p) => s + cpuSeconds(p), 0)
  const cpu0 = cpu()
  const { out } = await sh(args)
  const cpuUsed = cpu() - cpu0
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
  const lat = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) return Number.NaN
    const v = Number(m[1])
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
  }
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const sockErr = /Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)/.exec(out)
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0)
  const cpuUs = o.pids?.length && total ? (cpuUsed * 1e6) / total : Number.NaN
  return { rps, p50: lat('50'), p99: lat('99'), errors, cpuUs }
}

/** Starts a process and waits until `ready` matches its stdout. */
export async function startProcess(
  cmd: string[],
  o: { env?: Record<string, string>; cwd?: string; ready: RegExp },
) {
  const proc = Bun.spawn(cmd, {
    cwd: o.cwd ?? root,
    env: { ...process.env, ...o.env },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const reader = proc.stdout.getReader()
  let out = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${cmd.join(' ')} exited before it was ready:\n${out}`)
    out += new TextDecoder().decode(value)
    const m = o.ready.exec(out)
    if (m) {
      // Keep draining stdout so the child never blocks on a full pipe.
      ;(async () => {
        for (;;) if ((await reader.read()).done) break
      })()
      return { proc, match: m, out }
    }
  }
}

/** A small Bun script of bench/ in its own process, on a free port, once it says "listening". */
export async function startBun(script: string, env: Record<string, string> = {}) {
  const port = await freePort()
  const { proc } = await startProcess([process.execPath, script], {
    env: { PORT: String(port), ...env },
    ready: /listening/,
  })
  return { proc, url: `http://127.0.0.1:${port}`, port }
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

export const fmt = (r: WrkResult) =>
  `${r.rps.toFixed(0).padStart(8)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms` +
  `${Number.isNaN(r.cpuUs) ? '' : `  ${r.cpuUs.toFixed(1).padStart(6)} µs CPU/req`}${r.errors ? `  (${r.errors} errors)` : ''}`

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port!
  s.stop(true)
  return port
}

export type Switchboard = {
  proc: Bun.Subprocess
  url: string
  stop(): Promise<void>
  post<T = any>(path: string, token: string, body: unknown): Promise<T>
}

/**
 * Starts Switchboard in its own process (the compiled binary unless `cmd` says otherwise),
 * logging at info level to /dev/null, rate limits on but out of the way, and waits for /healthz.
 * `profileDir` turns on Bun's CPU profiler (written when the process exits).
 */
export async function startSwitchboard(
  env: Record<string, string>,
  o: { cmd?: string[]; profileDir?: string } = {},
): Promise<Switchboard> {
  const port = await freePort()
  const proc = Bun.spawn(o.cmd ?? [binary, 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SWITCHBOARD_ADMIN_TOKEN: ADMIN,
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      // On, but high enough that a bench measures the limiters' cost, not their refusals.
      SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '1000000',
      SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_IP_BURST: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_IP_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_IP_BURST: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_BURST: '1000000',
      SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '1000000',
      SWITCHBOARD_RATE_LIMIT_WRITE_BURST: '1000000',
      // Benchmarks hold thousands of sockets on one key.
      SWITCHBOARD_WS_MAX_PER_CREDENTIAL: '1000000',
      ...(o.profileDir ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${o.profileDir}` } : {}),
      ...env,
    },
    stdout: Bun.file('/dev/null'),
    stderr: 'inherit',
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {}
    if (i > 600 || proc.exitCode !== null) throw new Error(`Switchboard on ${url} never became healthy`)
    await Bun.sleep(50)
  }
  const post = async <T = any>(path: string, token: string, body: unknown): Promise<T> => {
    const r = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`)
    return (await r.json()) as T
  }
  const stop = async () => {
    proc.kill('SIGTERM')
    await proc.exited
  }
  return { proc, url, stop, post }
}

/** A workspace with `n` agents (ids and tokens), registered over HTTP. */
export async function seedAgents(sb: Switchboard, n: number, fields: Record<string, unknown> = {}) {
  const ws = await sb.post<{ apiKey: string }>('/api/workspaces', ADMIN, { name: `bench-${Date.now()}` })
  const agents: { id: string; permanentId: string; token: string }[] = []
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, j) =>
        sb.post<{ agent: { id: string; permanentId: string }; token: string }>('/api/agents', ws.apiKey, {
          name: `bench-${i + j}`,
          ...fields,
        }),
      ),
    )
    agents.push(...batch.map((r) => ({ id: r.agent.id, permanentId: r.agent.permanentId, token: r.token })))
  }
  return { key: ws.apiKey, agents }
}

/** A fresh Postgres database for one bench run, dropped by `drop()`; null without Postgres. */
export async function pgDatabase(prefix: string) {
  const admin = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const ready = await sh(['pg_isready', '-h', '127.0.0.1', '-q'], { quiet: true }).catch(() => ({ code: 1 }))
  if (ready.code !== 0) return null
  const name = `${prefix}_${Date.now()}`
  await sh(['psql', admin, '-qc', `CREATE DATABASE ${name}`])
  return {
    url: admin.replace(/\/[^/]*$/, `/${name}`),
    drop: () => sh(['psql', admin, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { quiet: true }),
  }
}

/** Median and range of a few runs' figures. */
export function spread(xs: number[]) {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  return { median: mid, min: s[0]!, max: s[s.length - 1]! }
}

export const fmtSpread = (xs: number[], digits = 2, unit = '') => {
  const s = spread(xs)
  return xs.length > 1
    ? `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
    : `${s.median.toFixed(digits)}${unit}`
}

export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

/** A contender: how to drive it with wrk, and which pids are the server (for CPU per request). */
/** A wrk script that POSTs `body` as JSON to `path`, with a bearer token when one is given. */
export const wrkPost = (path: string, body: string, token?: string) => `wrk.method = "POST"
wrk.body = '${body}'
wrk.headers["Content-Type"] = "application/json"
${token ? `wrk.headers["Authorization"] = "Bearer ${token}"` : ''}
wrk.path = "${path}"`

export type Contender = { name: string; url: string; script?: string; pids?: number[] }

/**
 * Measures every contender `ROUNDS` times, alternating them within each round, at `connections`
 * connections (each run after a short warm-up). Returns every run by contender name.
 */
export async function rounds(contenders: Contender[], connections: number, o: { seconds?: number } = {}) {
  const runs: Record<string, WrkResult[]> = {}
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of contenders) {
      const opts = { connections, script: c.script, pids: c.pids }
      await wrk(c.url, { ...opts, seconds: 2 })
      const res = await wrk(c.url, { ...opts, seconds: o.seconds ?? SECONDS })
      runs[c.name] ??= []
      runs[c.name]!.push(res)
      console.log(`  round ${r + 1}  ${c.name.padEnd(28)} ${fmt(res)}`)
    }
  }
  return runs
}

/** Per-round ratios of one figure of `a` to `b` (same round: the same load on the machine). */
export const ratios = (
  runs: Record<string, WrkResult[]>,
  a: string,
  b: string,
  pick: (r: WrkResult) => number = (r) => r.rps,
) => runs[a]!.map((x, i) => pick(x) / pick(runs[b]![i]!))

/** The median run's figures of a contender, for a summary line. */
export const medianOf = (runs: WrkResult[]): WrkResult => ({
  rps: spread(runs.map((r) => r.rps)).median,
  p50: spread(runs.map((r) => r.p50)).median,
  p99: spread(runs.map((r) => r.p99)).median,
  errors: runs.reduce((s, r) => s + r.errors, 0),
  cpuUs: spread(runs.map((r) => r.cpuUs)).median,
})

/**
 * JSON calls through an app's framework path in this process (`app.handle`), for benches that
 * build their own deps: the parsed answer, or a throw naming the status and body.
 */
export const inProcessCaller =
  (app: { handle(request: Request): Promise<Response> }) =>
  async (method: string, path: string, key: string, body?: unknown) => {
    const res = await app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    )
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return res.json() as Promise<any>
  }
