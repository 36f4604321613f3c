import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { adminWorkspace, binaryMissing, call, type Instance, startBinary } from './binary'
import { PrivatePg, privatePgUnavailable } from './pg'

/**
 * Issue 8, point 2: while the database is stopped or frozen, requests that need it answer 503
 * `database_unavailable` with Retry-After within SWITCHBOARD_DB_TIMEOUT_MS (plus scheduling
 * slack), never a 500 or a hang; /readyz is 503 meanwhile; recovery needs nothing but the
 * database coming back.
 */
const skip = privatePgUnavailable() ?? binaryMissing()
if (skip) console.warn(`faults/unavailable skipped: ${skip}`)

const TIMEOUT_MS = 1000
const SLACK_MS = 1500

describe.skipIf(skip !== null)('database stopped or frozen', () => {
  let pg: PrivatePg
  let sb: Instance
  let key: string
  beforeAll(async () => {
    pg = await PrivatePg.create()
    sb = await startBinary({
      DATABASE_URL: pg.url(),
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_DB_TIMEOUT_MS: String(TIMEOUT_MS),
    })
    key = await adminWorkspace(sb.url)
  })
  afterAll(async () => {
    await sb?.stop('SIGKILL')
    pg?.destroy()
  })

  /** Requests for `ms` from 8 clients; every answer must be a fast 503 database_unavailable. */
  async function duringOutage(ms: number) {
    const answers: { status: number; code?: string; retryAfter: string | null; ms: number }[] = []
    const until = Date.now() + ms
    const client = async (c: number) => {
      for (let n = 0; Date.now() < until; n++) {
        const r = await call(sb.url, 'POST', '/api/agents', {
          token: key,
          body: { name: `out-${c}-${n}` },
          timeoutMs: 20_000,
        })
        answers.push({
          status: r.status,
          code: r.body?.code,
          retryAfter: r.headers.get('retry-after'),
          ms: r.ms,
        })
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)))
    const ready = await call(sb.url, 'GET', '/readyz', { timeoutMs: 10_000 })
    return { answers, ready }
  }

  async function recovers() {
    const started = Date.now()
    for (;;) {
      const r = await call(sb.url, 'POST', '/api/agents', { token: key, body: { name: 'back' } })
      if (r.status === 201) break
      if (Date.now() - started > 15_000) throw new Error(`no recovery: ${r.status} ${JSON.stringify(r.body)}`)
      await Bun.sleep(100)
    }
    const ready = await call(sb.url, 'GET', '/readyz')
    expect(ready.status).toBe(200)
    return Date.now() - started
  }

  function expectFastUnavailable(
    answers: { status: number; code?: string; retryAfter: string | null; ms: number }[],
  ) {
    expect(answers.length).toBeGreaterThan(0)
    const unexpected = answers.filter(
      (a) => a.status !== 503 || a.code !== 'database_unavailable' || !a.retryAfter,
    )
    expect(unexpected).toEqual([])
    const slowest = Math.max(...answers.map((a) => a.ms))
    expect(slowest).toBeLessThan(TIMEOUT_MS + SLACK_MS)
    return slowest
  }

  test('stopped: fast 503s with Retry-After, /readyz 503, then recovery on its own', async () => {
    pg.stop('fast')
    const { answers, ready } = await duringOutage(5000)
    const slowest = expectFastUnavailable(answers)
    expect(ready.status).toBe(503)
    expect(ready.body).toMatchObject({ ready: false, reason: 'database_unavailable' })
    pg.start()
    const recoveryMs = await recovers()
    console.log(
      `stopped: ${answers.length} answers, slowest ${Math.round(slowest)} ms, recovered in ${recoveryMs} ms`,
    )
    expect(sb.alive()).toBe(true)
  }, 60_000)

  test('frozen (SIGSTOP): 503 within the timeout, not a hang; recovery when it thaws', async () => {
    pg.freeze()
    let result: Awaited<ReturnType<typeof duringOutage>>
    try {
      result = await duringOutage(5000)
    } finally {
      pg.thaw()
    }
    const slowest = expectFastUnavailable(result.answers)
    expect(result.ready.status).toBe(503)
    const recoveryMs = await recovers()
    console.log(
      `frozen: ${result.answers.length} answers, slowest ${Math.round(slowest)} ms, recovered in ${recoveryMs} ms`,
    )
    expect(sb.alive()).toBe(true)
  }, 60_000)
})
