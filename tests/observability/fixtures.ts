import { expect } from 'bun:test'
import { upstream } from '../helpers'

/** One request as a local upstream (an agent, a callback receiver) received it. */
export type Seen = { path: string; headers: Record<string, string>; body: string }

/**
 * A local upstream that records what it receives. `/ok…` answers 200 JSON, `/fail…` 500,
 * `/accept…` 202 (the agent will report later); anything else 200.
 */
export function recorder() {
  const seen: Seen[] = []
  const server = upstream(async (req) => {
    const path = new URL(req.url).pathname
    seen.push({ path, headers: Object.fromEntries(req.headers), body: await req.text() })
    if (path.startsWith('/fail')) return new Response('broken', { status: 500 })
    if (path.startsWith('/accept')) return new Response('queued', { status: 202 })
    return Response.json({ ok: true })
  })
  return { url: server.url, seen, at: (path: string) => seen.filter((s) => s.path === path) }
}

/** Log lines written to a test's logger, parsed. */
export function logLines() {
  const raw: string[] = []
  return {
    write: (l: string) => raw.push(l),
    raw,
    parsed: () => raw.map((l) => JSON.parse(l) as Record<string, any>),
  }
}

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
export const CALLER_SPAN = '00f067aa0ba902b7'
export const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`

/** A traceparent's parts, asserting it is well-formed. */
export function parts(traceparent: string | undefined) {
  expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/)
  const [, traceId, spanId, flags] = traceparent!.split('-')
  return { traceId: traceId!, spanId: spanId!, flags: flags! }
}

/** A Prometheus text scrape as a lookup: `value(name, labels)` (labels matched exactly). */
export function scrape(text: string) {
  const series = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${line}`)
    series.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]))
  }
  const keyOf = (name: string, labels: Record<string, string>) => {
    // Sorted by name, as rendered; a histogram's `le` comes last.
    const l = Object.entries(labels)
      .sort(([a], [b]) => (a === 'le' ? 1 : b === 'le' ? -1 : a < b ? -1 : 1))
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')
    return l ? `${name}{${l}}` : name
  }
  return {
    series,
    value: (name: string, labels: Record<string, string> = {}) => series.get(keyOf(name, labels)),
    names: () => new Set([...series.keys()].map((k) => k.replace(/\{.*$/, ''))),
  }
}

/** `promtool check metrics` on a scrape: its verdict and what it said. */
export async function promtoolCheck(text: string) {
  const p = Bun.spawn(['promtool', 'check', 'metrics'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
  p.stdin.write(text)
  await p.stdin.end()
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ])
  return { code, output: `${out}${err}` }
}

/** promtool is needed in CI (.ci/run installs it); elsewhere its checks are skipped when it is missing. */
export const havePromtool = Bun.which('promtool') !== null
export const requirePromtool = process.env.CI === 'true' || havePromtool
