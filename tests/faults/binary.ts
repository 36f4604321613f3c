import { afterAll } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** The compiled binary (`npm run build`; the fault script builds it first). */
export const BIN = join(import.meta.dir, '../../dist/switchboard')
export const MASTER_KEY = 'b'.repeat(64)
export const ADMIN = 'fault-admin-token-0123456789abcdef0123'

export function binaryMissing(): string | null {
  return existsSync(BIN) ? null : `${BIN} is missing: run \`npm run build\` first`
}

export type Instance = {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  url: string
  /** Everything it wrote so far, stdout and stderr. */
  output(): string
  alive(): boolean
  stop(signal?: NodeJS.Signals): Promise<number>
}

const running = new Set<Instance>()
afterAll(async () => {
  for (const i of running) await i.stop('SIGKILL')
})

/** Starts the binary on a free port with `env`; resolves once it logs that it listens. */
export async function startBinary(
  env: Record<string, string>,
  args: string[] = ['serve'],
): Promise<Instance> {
  const proc = Bun.spawn([BIN, ...args], {
    cwd: env.CWD ?? process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_MASTER_KEY: MASTER_KEY,
      SWITCHBOARD_ADMIN_TOKEN: ADMIN,
      SWITCHBOARD_LOG_LEVEL: 'info',
      SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0',
      SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '0',
      // The faults are driven by a few writers hammering one workspace key: the write limit would answer first.
      SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '0',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      ...env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder()
    for await (const chunk of s) out += dec.decode(chunk)
  }
  void pump(proc.stdout)
  void pump(proc.stderr)
  let exited = false
  void proc.exited.then(() => {
    exited = true
  })
  const deadline = Date.now() + 20_000
  let url: string | undefined
  while (!url) {
    const m = /"msg":"listening","url":"(http:\/\/[^"]+?)\/?"/.exec(out)
    if (m) url = m[1]!
    else if (exited || Date.now() > deadline) throw new Error(`the binary did not start:\n${out}`)
    else await Bun.sleep(20)
  }
  const inst: Instance = {
    proc,
    url,
    output: () => out,
    alive: () => !exited,
    async stop(signal = 'SIGTERM') {
      running.delete(inst)
      if (!exited) proc.kill(signal)
      return proc.exited
    },
  }
  running.add(inst)
  return inst
}

/** A JSON request; never throws on a network error (status 0 then). */
export async function call(
  url: string,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; timeoutMs?: number } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (o.token) headers.authorization = `Bearer ${o.token}`
  const started = performance.now()
  try {
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    })
    const text = await res.text()
    let body: any = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body, headers: res.headers, ms: performance.now() - started }
  } catch (e) {
    return { status: 0, body: String(e), headers: new Headers(), ms: performance.now() - started }
  }
}

/** Creates a workspace through the admin route and returns its key. */
export async function adminWorkspace(url: string, name = `f-${crypto.randomUUID().slice(0, 8)}`) {
  const r = await call(url, 'POST', '/api/workspaces', { token: ADMIN, body: { name } })
  if (r.status !== 201) throw new Error(`workspace: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.apiKey as string
}
