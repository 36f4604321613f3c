/**
 * npm run bench:ws — the live layer under load (run on demand, never from `bun test`).
 *
 * 1. Fan-out: 5,000 WebSocket clients of one workspace on a Switchboard in its own process
 *    (SQLite). Events go through the real path: heartbeats that flip an agent between
 *    online and idle, each one `agent.status_changed`. For 100 events, one at a time: the
 *    time from sending the heartbeat until the last of the 5,000 clients has the event.
 *    Then a burst from 50 agents at once: delivered events per second across all clients.
 * 2. Health sweep: 10,000 agents with endpoints on a local HTTP server (its own process);
 *    with the default spread (it is meant to fill most of its one-minute interval) and with
 *    no spread (as fast as it goes), two sweeps each — the first, which brings every agent
 *    online (10,000 presence events), and the next, which changes nothing — with the CPU
 *    each costs. The RSS of the server holding the 5,000 sockets of part 1 is printed there.
 *
 * The clients are a minimal RFC 6455 client on Bun.connect (handshake, frame parsing, pongs):
 * Bun's WebSocket object costs ~9 µs of client CPU per message, which on a small machine
 * would measure the clients instead of the server.
 *
 * BENCH_CLIENTS, BENCH_EVENTS, BENCH_BURST, BENCH_AGENTS change the sizes.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { RegisterBody } from '../src/modules/agents/model'
import { registerAgent } from '../src/modules/agents/register'
import { runHealthSweep } from '../src/modules/health/sweep'
import { createWorkspace } from '../src/modules/workspaces/service'
import { buildDeps } from '../src/server'
import { root, rssMb, startProcess, tmp } from './lib'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 5000)
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100)
const BURST = Number(process.env.BENCH_BURST ?? 2000)
const SWEEP_AGENTS = Number(process.env.BENCH_AGENTS ?? 10_000)
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789'
const NEVER = '0 0 0 1 1 *'

// ---- a lean WebSocket client ----------------------------------------------------------------

type Arrival = { count: number; last: number }
const arrivals = new Map<number, Arrival>()
let readyCount = 0
const closes = new Map<number, number>()

type Conn = {
  sock: Bun.Socket<undefined>
  buf: Uint8Array | null
  open: boolean
  ending?: boolean
  onOpen?: () => void
}

const HANDSHAKE_END = new TextEncoder().encode('\r\n\r\n')
const READY = new TextEncoder().encode('{"type":"ready"')

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

function startsWith(b: Uint8Array, off: number, prefix: Uint8Array) {
  if (b.length - off < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (b[off + i] !== prefix[i]) return false
  return true
}

/** A masked client frame (RFC 6455 requires masking from clients; a zero mask is a valid mask). */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(6 + payload.length)
  f[0] = 0x80 | opcode
  f[1] = 0x80 | payload.length
  f.set(payload, 6)
  return f
}

function onData(c: Conn, chunk: Uint8Array) {
  const now = performance.now()
  let b = chunk
  if (c.buf) {
    b = new Uint8Array(c.buf.length + chunk.length)
    b.set(c.buf)
    b.set(chunk, c.buf.length)
  }
  let off = 0
  if (!c.open) {
    const end = indexOf(b, HANDSHAKE_END)
    if (end < 0) {
      c.buf = b
      return
    }
    c.open = true
    off = end + 4
    c.onOpen?.()
  }
  for (;;) {
    if (b.length - off < 2) break
    const opcode = b[off]! & 0x0f
    let len = b[off + 1]! & 0x7f
    let h = 2
    if (len === 126) {
      if (b.length - off < 4) break
      len = (b[off + 2]! << 8) | b[off + 3]!
      h = 4
    } else if (len === 127) {
      if (b.length - off < 10) break
      len = Number(new DataView(b.buffer, b.byteOffset + off + 2, 8).getBigUint64(0))
      h = 10
    }
    if (b.length - off < h + len) break
    const p = off + h
    if (opcode === 1) {
      // {"id":123,… is an event; {"type":"ready",… says the socket is authenticated.
      if (b[p + 2] === 0x69 && b[p + 3] === 0x64) {
        let id = 0
        for (let i = p + 6; b[i]! >= 0x30 && b[i]! <= 0x39; i++) id = id * 10 + (b[i]! - 0x30)
        let a = arrivals.get(id)
        if (!a) {
          a = { count: 0, last: 0 }
          arrivals.set(id, a)
        }
        a.count++
        a.last = now
      } else if (startsWith(b, p, READY)) readyCount++
    } else if (opcode === 9) c.sock.write(clientFrame(0xa, b.slice(p, p + len)))
    else if (opcode === 8) {
      const code = len >= 2 ? (b[p]! << 8) | b[p + 1]! : 1005
      closes.set(code, (closes.get(code) ?? 0) + 1)
    }
    off = p + len
  }
  c.buf = off < b.length ? b.slice(off) : null
}

async function connect(host: string, port: number, path: string, token?: string): Promise<Conn> {
  const conn = { buf: null, open: false } as unknown as Conn
  const opened = new Promise<void>((r) => {
    conn.onOpen = r
  })
  conn.sock = await Bun.connect({
    hostname: host,
    port,
    socket: {
      data: (_s, d) => onData(conn, d),
      close: () => {
        if (conn.open && !conn.ending) closes.set(1006, (closes.get(1006) ?? 0) + 1)
      },
    },
  })
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')
  conn.sock.write(
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (token ? `Authorization: Bearer ${token}\r\n` : '') +
      '\r\n',
  )
  await opened
  return conn
}

// ---- helpers --------------------------------------------------------------------------------

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

async function until(probe: () => boolean, ms: number) {
  const end = performance.now() + ms
  while (!probe()) {
    if (performance.now() > end) return false
    await Bun.sleep(1)
  }
  return true
}

async function api(base: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res.json() as Promise<any>
}

async function freePort() {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port!
  s.stop(true)
  return port
}

/** Fires `n` events one at a time; for each, the time from firing until the last client has it. */
async function measureLatency(fire: (i: number) => Promise<unknown>, n: number) {
  const latencies: number[] = []
  let missing = 0
  for (let i = 0; i < n; i++) {
    const before = new Set(arrivals.keys())
    const sent = performance.now()
    await fire(i)
    let id = -1
    const complete = await until(() => {
      if (id < 0) for (const k of arrivals.keys()) if (!before.has(k)) id = k
      return id >= 0 && arrivals.get(id)!.count >= CLIENTS
    }, 10_000)
    if (!complete) missing++
    else latencies.push(arrivals.get(id)!.last - sent)
    await Bun.sleep(5)
  }
  latencies.sort((a, b) => a - b)
  return { latencies, missing }
}

const fmtLatency = ({ latencies, missing }: { latencies: number[]; missing: number }) =>
  `p50 ${pct(latencies, 0.5).toFixed(1)} ms  p99 ${pct(latencies, 0.99).toFixed(1)} ms  ` +
  `max ${latencies[latencies.length - 1]!.toFixed(1)} ms over ${latencies.length} events` +
  (missing ? ` (${missing} incomplete)` : '')

async function connectAll(port: number, path: string, token?: string) {
  readyCount = 0
  arrivals.clear()
  const conns: Conn[] = []
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = Math.min(100, CLIENTS - i)
    conns.push(
      ...(await Promise.all(Array.from({ length: batch }, () => connect('127.0.0.1', port, path, token)))),
    )
  }
  await until(() => readyCount >= CLIENTS, 30_000)
  return conns
}

// ---- 0. the floor: a bare Bun WebSocket server that only fans a frame out ----------------------

const BARE_SERVER = `
const sockets = new Set()
let id = 0
const s = Bun.serve({
  port: Number(process.env.PORT), hostname: '127.0.0.1',
  fetch(req, server) {
    if (server.upgrade(req)) return
    const frame = JSON.stringify({ id: ++id, type: 'agent.status_changed', at: new Date().toISOString(),
      data: { agentId: crypto.randomUUID(), permanentId: 'agt-12345678', from: 'online', to: 'idle', reason: 'heartbeat' } })
    for (const ws of sockets) ws.send(frame)
    return new Response('{}')
  },
  websocket: { open(ws) { sockets.add(ws); ws.send('{"type":"ready"}') }, close(ws) { sockets.delete(ws) }, message() {} },
})
console.log('listening', s.port)
`

async function bareFloor() {
  const port = await freePort()
  const bare = await startProcess([process.execPath, '-e', BARE_SERVER], {
    env: { PORT: String(port) },
    ready: /listening/,
  })
  try {
    const conns = await connectAll(port, '/')
    const result = await measureLatency(
      () => fetch(`http://127.0.0.1:${port}/fire`, { method: 'POST' }),
      EVENTS,
    )
    console.log(`floor: a bare Bun server sending one frame to ${CLIENTS} sockets   ${fmtLatency(result)}`)
    for (const c of conns) {
      c.ending = true
      c.sock.end()
    }
    return result
  } finally {
    bare.proc.kill()
  }
}

// ---- 1. fan-out ------------------------------------------------------------------------------

async function fanOut() {
  const port = await freePort()
  const dir = tmp()
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      SWITCHBOARD_ADMIN_TOKEN: ADMIN,
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_LOG_LEVEL: 'warn',
      SWITCHBOARD_PRESENCE_SWEEP_CRON: NEVER,
      SWITCHBOARD_HEALTH_CRON: NEVER,
      // All the clients share one key, and one agent flips its presence as fast as it can.
      SWITCHBOARD_WS_MAX_PER_CREDENTIAL: '1000000',
      SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '0',
    },
    stdout: Bun.file('/dev/null'),
    stderr: 'inherit',
  })
  const base = `http://127.0.0.1:${port}`
  await Bun.sleep(300)
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break
    } catch {}
    await Bun.sleep(50)
  }
  try {
    const ws = await api(base, 'POST', '/api/workspaces', ADMIN, { name: 'bench' })
    const key = ws.apiKey as string
    const agents: { id: string; token: string }[] = []
    for (let i = 0; i <= 50; i++) {
      const r = await api(base, 'POST', '/api/agents', key, { name: `flipper-${i}` })
      agents.push({ id: r.agent.id, token: r.token })
    }
    // The first flips one at a time; the other 50 (all offline so far) make the burst.
    const flipper = agents.shift()!
    const cpuStart = cpuSeconds(proc.pid)
    const t0 = performance.now()
    // The key in the header: upgrades without one count against the per-IP limit.
    const conns = await connectAll(port, '/api/ws', key)
    const held = await fetch(`${base}/metrics`).then((r) => r.text())
    const open = Number(/switchboard_ws_connections\{kind="workspace"\} (\d+)/.exec(held)?.[1] ?? 0)
    const rssHeld = rssMb(proc.pid)
    console.log(
      `connected ${conns.length} clients in ${((performance.now() - t0) / 1000).toFixed(1)} s; the server holds ${open}, ` +
        `RSS ${rssHeld.toFixed(0)} MB`,
    )

    // One event at a time: heartbeat sent → the last client has it.
    const beat = (a: { id: string; token: string }, status: string) =>
      api(base, 'POST', `/api/agents/${a.id}/heartbeat`, a.token, { status })
    await beat(flipper, 'online')
    await until(() => [...arrivals.values()].some((a) => a.count >= CLIENTS), 10_000)
    const latency = await measureLatency((i) => beat(flipper, i % 2 === 0 ? 'idle' : 'online'), EVENTS)
    const latencies = latency.latencies
    const cpuAfterLatency = cpuSeconds(proc.pid)
    console.log(`Switchboard: heartbeat → the last of ${CLIENTS} sockets       ${fmtLatency(latency)}`)

    // A burst: 50 agents flip at once, BURST events in all.
    const received = () => {
      let n = 0
      for (const a of arrivals.values()) n += a.count
      return n
    }
    const startCount = received()
    const burstStart = performance.now()
    const per = Math.ceil(BURST / agents.length)
    await Promise.all(
      agents.map(async (a) => {
        for (let i = 0; i < per; i++) await beat(a, i % 2 === 0 ? 'online' : 'idle')
      }),
    )
    const produced = performance.now()
    const expected = per * agents.length * CLIENTS
    const done = await until(() => received() - startCount >= expected, 120_000)
    const elapsed = (performance.now() - burstStart) / 1000
    const delivered = received() - startCount
    const cpuEnd = cpuSeconds(proc.pid)
    console.log(
      `burst: ${per * agents.length} events from ${agents.length} agents, produced in ${((produced - burstStart) / 1000).toFixed(2)} s; ` +
        `${delivered.toLocaleString()} deliveries in ${elapsed.toFixed(2)} s = ${Math.round(delivered / elapsed).toLocaleString()} delivered events/s` +
        (done ? '' : ' (incomplete)'),
    )
    const after = await fetch(`${base}/metrics`).then((r) => r.text())
    const stillOpen = Number(/switchboard_ws_connections\{kind="workspace"\} (\d+)/.exec(after)?.[1] ?? 0)
    console.log(
      `server CPU: ${(cpuAfterLatency - cpuStart).toFixed(1)} s for connecting and the latency run, ` +
        `${(cpuEnd - cpuAfterLatency).toFixed(1)} s for the burst; sockets still held ${stillOpen}` +
        (closes.size ? `; closes ${JSON.stringify(Object.fromEntries(closes))}` : ''),
    )
    for (const c of conns) {
      c.ending = true
      c.sock.end()
    }
    return {
      p50: pct(latencies, 0.5),
      p99: pct(latencies, 0.99),
      rate: delivered / elapsed,
      held: open,
      rssHeld,
    }
  } finally {
    proc.kill('SIGTERM')
    await proc.exited
  }
}

// ---- 2. the health sweep ---------------------------------------------------------------------

async function sweep() {
  const port = await freePort()
  const endpoints = await startProcess([process.execPath, '-e', ENDPOINT_SERVER], {
    env: { PORT: String(port) },
    ready: /listening/,
  })
  try {
    const results: { label: string; seconds: number; cpu: number; checked: number }[] = []
    for (const spread of ['0.8', '0']) {
      const dir = tmp()
      const deps = await buildDeps(
        loadConfig({
          DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
          SWITCHBOARD_LOG_LEVEL: 'silent',
          SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
          SWITCHBOARD_HEALTH_SPREAD: spread,
        }),
      )
      const { workspace } = await createWorkspace({
        deps,
        actor: { kind: 'admin' },
        input: { name: 'sweep' },
      })
      const actor = {
        kind: 'workspace' as const,
        workspaceId: workspace.id,
        keyId: 'bench',
        keyPrefix: 'bench',
      }
      for (let i = 0; i < SWEEP_AGENTS; i++) {
        await registerAgent({
          ctx: { deps, actor, requestId: 'bench', trace: deps.tracer.root('bench') },
          input: RegisterBody.parse({
            name: `agent-${i}`,
            endpointUrl: `http://127.0.0.1:${port}/agents/${i}`,
          }),
        })
      }
      // The first sweep brings every agent online (10,000 events); the next changes nothing.
      for (const which of ['first', 'next']) {
        Bun.gc(true)
        const events0 = await deps.db.orm.$count(deps.db.t.events)
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        const summary = await runHealthSweep(deps)
        const seconds = (performance.now() - t0) / 1000
        const c = process.cpuUsage(cpu0)
        const cpu = (c.user + c.system) / 1e6
        const events = (await deps.db.orm.$count(deps.db.t.events)) - events0
        results.push({
          label: `${spread === '0' ? 'no spread' : `spread ${spread}`}, ${which}`,
          seconds,
          cpu,
          checked: summary.checked,
        })
        console.log(
          `health sweep of ${summary.agents} agents (${spread === '0' ? 'no spread' : `spread over ${spread} of the minute`}, ` +
            `${which} sweep: ${events} presence events): ${seconds.toFixed(1)} s, ${summary.passed} passed, ` +
            `${summary.failed} failed; CPU ${cpu.toFixed(1)} s (${((cpu / seconds) * 100).toFixed(0)}% of a core while it ran)`,
        )
      }
      await deps.live.shutdown()
      await deps.db.close()
    }
    return results
  } finally {
    endpoints.proc.kill()
  }
}

const ENDPOINT_SERVER = `
const s = Bun.serve({ port: Number(process.env.PORT), hostname: '127.0.0.1', fetch: () => new Response('ok') })
console.log('listening', s.port)
`

console.log(`live-layer benchmark: ${CLIENTS} clients, ${EVENTS} events one at a time, a burst of ${BURST}\n`)
const floor = await bareFloor()
const f = await fanOut()
console.log()
const s = await sweep()
const spread = s[0]!
console.log(
  `\ngoals: ${CLIENTS} sockets held → ${f.held} (RSS ${f.rssHeld.toFixed(0)} MB); fan-out p99 < 50 ms → ${f.p99.toFixed(1)} ms; ` +
    `(floor on this machine ${pct(floor.latencies, 0.99).toFixed(1)} ms); ≥ 200k delivered events/s → ${Math.round(f.rate).toLocaleString()}; ` +
    `10,000-agent sweep inside its minute → ${spread.seconds.toFixed(1)} s (no spread: ${s[2]!.seconds.toFixed(1)} s); ` +
    `CPU ≤ 3 s → ${s.map((r) => `${r.label} ${r.cpu.toFixed(1)} s`).join(', ')}`,
)
process.exit(0)
