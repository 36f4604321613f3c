import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { binaryMissing, call, type Instance, startBinary } from './binary'
import { PrivatePg, privatePgUnavailable } from './pg'

/**
 * Issue 8, point 4: leadership is a lease. Two binaries on a private Postgres; the leader is
 * frozen with SIGSTOP; the other takes the lead within the lease and runs the sweeps; the old
 * leader, thawed, notices it lost the lead and runs nothing more.
 */
const skip = privatePgUnavailable() ?? binaryMissing()
if (skip) console.warn(`faults/leader skipped: ${skip}`)

const LEASE_S = 3

/** switchboard_scheduler_leader and presence-sweep runs, from /metrics. */
async function scheduling(i: Instance) {
  const r = await call(i.url, 'GET', '/metrics', { timeoutMs: 5000 })
  const text = String(r.body)
  const leader = /^switchboard_scheduler_leader(?:\{\})? (\d)/m.exec(text)?.[1]
  const runs = [
    ...text.matchAll(/^switchboard_scheduled_runs_total\{[^}]*job="presence-sweep"[^}]*\} (\d+)/gm),
  ]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0)
  return { leader: leader === '1', runs }
}

async function until<T>(
  what: string,
  ms: number,
  f: () => Promise<T | false>,
): Promise<{ value: T; ms: number }> {
  const started = Date.now()
  for (;;) {
    const v = await f()
    if (v !== false) return { value: v, ms: Date.now() - started }
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100)
  }
}

describe.skipIf(skip !== null)('a frozen leader', () => {
  let pg: PrivatePg
  const env = () => ({
    DATABASE_URL: pg.url(),
    SWITCHBOARD_BOOTSTRAP: 'false',
    SWITCHBOARD_LEADER_LEASE_SECONDS: String(LEASE_S),
    SWITCHBOARD_PRESENCE_SWEEP_CRON: '* * * * * *',
  })
  beforeAll(async () => {
    pg = await PrivatePg.create()
  })
  afterAll(() => pg?.destroy())

  test('loses the lead within the lease; the other runs the sweeps; thawed, it runs nothing', async () => {
    const a = await startBinary(env())
    await until('A to lead', 10_000, async () => (await scheduling(a)).leader || false)
    const b = await startBinary(env())
    await Bun.sleep(1500)
    expect((await scheduling(b)).leader).toBe(false)

    const before = await scheduling(a)
    a.proc.kill('SIGSTOP')
    let thawed = false
    try {
      const takeover = await until(
        'B to lead',
        4 * LEASE_S * 1000,
        async () => (await scheduling(b)).leader || false,
      )
      // Within the lease plus one renewal period.
      expect(takeover.ms).toBeLessThan((LEASE_S + LEASE_S / 3 + 1.5) * 1000)
      const bRuns = (await scheduling(b)).runs
      await until('B to sweep', 5000, async () => (await scheduling(b)).runs > bRuns || false)
      console.log(`leader: B took the lead ${takeover.ms} ms after A froze (lease ${LEASE_S} s)`)
      await Bun.sleep(LEASE_S * 1000)
      a.proc.kill('SIGCONT')
      thawed = true
      const after = await scheduling(a)
      expect(after.leader).toBe(false)
      await Bun.sleep(2500)
      const later = await scheduling(a)
      expect(later.leader).toBe(false)
      // A ran no sweep after it froze (one under way at the freeze may finish: at most one).
      expect(later.runs - before.runs).toBeLessThanOrEqual(1)
      expect(later.runs).toBe(after.runs)
      expect(a.output()).toContain('"msg":"no longer leading scheduled jobs"')
      expect((await scheduling(b)).leader).toBe(true)
    } finally {
      if (!thawed) a.proc.kill('SIGCONT')
      await a.stop()
      await b.stop()
    }
  }, 60_000)
})
