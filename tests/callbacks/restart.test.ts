import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { ADMIN_TOKEN, onPostgres, TEST_MASTER_KEY, tempDir, upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'

/**
 * A callback pending in a real Switchboard process survives `kill -9`: the next process on
 * the same database sends it, signed with the same secret, under the same webhook-id.
 */
const root = join(import.meta.dir, '../..')
const database = onPostgres
  ? process.env.DATABASE_URL!
  : `sqlite:${join(tempDir('sb-restart-'), 'switchboard.db')}`
const procs: Bun.Subprocess[] = []
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL')
})

/** `bun src/main.ts serve` on a free port; resolves with its URL once it listens. Output keeps draining. */
async function start() {
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: database,
      SWITCHBOARD_MASTER_KEY: TEST_MASTER_KEY,
      SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      // The first retry comes ~3 s after the first attempt (instead of ~30 s).
      SWITCHBOARD_CALLBACK_RETRY_SCALE: '0.1',
      SWITCHBOARD_LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
    },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  procs.push(proc)
  let out = ''
  let url: string | undefined
  const reader = proc.stdout.getReader()
  const listening = new Promise<string>((resolve, reject) => {
    ;(async () => {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return reject(new Error(`switchboard exited early: ${out}`))
        out += new TextDecoder().decode(value)
        const m = url ? null : /"msg":"listening","url":"(http:\/\/[^"]+?)\/?"/.exec(out)
        if (m) {
          url = m[1]!
          resolve(url)
        }
        if (out.length > 1_000_000) out = out.slice(-10_000)
      }
    })()
  })
  return { proc, url: await listening }
}

const call = async (base: string, method: string, path: string, token?: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as any }
}

test('a pending callback survives kill -9 and arrives, signed, after the restart', async () => {
  let healthy = false
  const hits: { headers: Record<string, string>; body: string; ok: boolean }[] = []
  const receiver = upstream(async (req) => {
    hits.push({ headers: Object.fromEntries(req.headers), body: await req.text(), ok: healthy })
    return healthy ? new Response('got it') : new Response('down', { status: 500 })
  })
  const agent = upstream(() => Response.json({ answer: 'forty-two' }))

  const first = await start()
  const ws = (
    await call(first.url, 'POST', '/api/workspaces', ADMIN_TOKEN, { name: `restart-${crypto.randomUUID()}` })
  ).body
  const key = ws.apiKey as string
  const caller = (await call(first.url, 'POST', '/api/agents', key, { name: 'caller' })).body
  const target = (
    await call(first.url, 'POST', '/api/agents', key, { name: 'target', endpointUrl: agent.url })
  ).body
  const conn = (
    await call(first.url, 'POST', '/api/connections', key, {
      agentId: caller.agent.id,
      targetAgentId: target.agent.id,
      type: 'private',
    })
  ).body
  const secret = (await call(first.url, 'GET', '/api/workspace/webhook-secret', key)).body.secret as string
  const accepted = await call(first.url, 'POST', `/api/proxy/${conn.id}/async`, caller.token, {
    q: 'life',
    _switchboard: { callback_url: `${receiver.url}/hook` },
  })
  expect(accepted.status).toBe(202)
  const jobId = accepted.body.jobId as string

  // The first attempt failed and is recorded; the delivery waits for its retry. Kill it now.
  const pending = await waitFor(async () => {
    const job = (await call(first.url, 'GET', `/api/jobs/${jobId}`, caller.token)).body
    // Recorded (not merely claimed): a claim cut by the kill would wait out its lease first.
    return job.callback?.attemptLog?.length >= 1 && job.callback.status === 'pending' ? job : undefined
  }, 'the first failed attempt')
  expect(pending.status).toBe('completed')
  first.proc.kill('SIGKILL')
  expect(await first.proc.exited).not.toBe(0)
  expect(hits.every((h) => !h.ok)).toBe(true)

  healthy = true
  const second = await start()
  const delivered = await waitFor(
    async () => {
      const job = (await call(second.url, 'GET', `/api/jobs/${jobId}`, caller.token)).body
      return job.callback?.status === 'delivered' ? job : undefined
    },
    'the callback after the restart',
    1200,
  )
  const good = hits.filter((h) => h.ok)
  expect(good).toHaveLength(1)
  const payload = new Webhook(secret).verify(good[0]!.body, good[0]!.headers) as any
  expect(payload.type).toBe('job.completed')
  expect(payload.data.jobId).toBe(jobId)
  expect(payload.data.result).toEqual({ answer: 'forty-two' })
  expect(new Set(hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([`msg_${jobId}`]))
  expect(delivered.callback.attempts).toBe(hits.length)
  expect(delivered.callback.attemptLog.at(-1).httpStatus).toBe(200)

  second.proc.kill('SIGTERM')
  expect(await second.proc.exited).toBe(0)
}, 60_000)
