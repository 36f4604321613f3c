/**
 * Shared pieces of the benchmarks: installing wrk, starting servers in their own
 * processes, running wrk and reading its figures. Run on demand, never from `bun test`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const root = join(import.meta.dir, '..')
export const tmp = (p = 'sb-bench-') => mkdtempSync(join(tmpdir(), p))

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

export type WrkResult = { rps: number; p50: number; p99: number; errors: number }

/** Runs wrk and returns requests/s and p50/p99 latency in milliseconds. */
export async function wrk(
  url: string,
  o: { connections: number; seconds: number; threads?: number; script?: string },
) {
  const args = ['wrk', `-t${o.threads ?? 2}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency']
  if (o.script) {
    const f = join(tmp('sb-wrk-'), 'script.lua')
    writeFileSync(f, o.script)
    args.push('-s', f)
  }
  args.push(url)
  const { out } = await sh(args)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  const lat = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) return Number.NaN
    const v = Number(m[1])
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
  }
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const sockErr = /Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)/.exec(out)
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0)
  return { rps, p50: lat('50'), p99: lat('99'), errors } satisfies WrkResult
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

export function rssMb(pid: number): number {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

export const fmt = (r: WrkResult) =>
  `${r.rps.toFixed(0).padStart(8)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms${r.errors ? `  (${r.errors} errors)` : ''}`
