import postgres from 'postgres'
import type { Logger } from '../log'

/**
 * Who runs the once-per-cluster jobs (sweeps, purges). On SQLite there is one instance, so
 * it always leads. On Postgres the leader is the instance holding a session advisory lock on
 * a dedicated connection, and the lock is a lease: see PgLeader.
 */
export interface Leadership {
  /** Whether this instance leads now; an instance that does not tries to take the lock. */
  claim(): Promise<boolean>
  readonly isLeader: boolean
  /** Called when this instance stops leading (runs in progress must stop: another leads now). */
  onLost(fn: () => void): void
  close(): Promise<void>
}

export const soleLeader: Leadership = {
  claim: async () => true,
  isLeader: true,
  onLost: () => {},
  close: async () => {},
}

/** The lock's two-int key: shows in pg_locks as classid/objid with objsubid 2. */
const LOCK = [7_361_120, 3] as const

/**
 * The lead as a lease of `leaseMs`:
 * - The leader's session is opened with `idle_session_timeout = leaseMs`, and it renews the
 *   lease by confirming the lock every `leaseMs / 3`. A leader that stops making progress
 *   (frozen, partitioned, stuck) sends nothing, so Postgres ends its session after the lease
 *   and the lock is free; the others take it at their next tick.
 * - A leader that has not confirmed its lock within the lease (the clock jumped: it was
 *   frozen) stops counting itself leader at once, before any database call, and asks again;
 *   it cannot run a job on a lead it lost. A confirm that fails or does not answer within the
 *   lease loses the lead too. Losing it aborts the runs in progress (`onLost`).
 * Postgres 14 or later (for `idle_session_timeout`).
 */
export class PgLeader implements Leadership {
  private leads = false
  private confirmedAt = 0
  private readonly sql: postgres.Sql
  private readonly timer: ReturnType<typeof setInterval>
  private readonly lost: (() => void)[] = []
  private claiming: Promise<boolean> | null = null
  private closed = false

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly instanceId: string,
    private readonly leaseMs = 15_000,
  ) {
    // A connection that lives as long as the process: a recycled connection would drop the lock.
    this.sql = postgres(url, {
      max: 1,
      max_lifetime: null,
      idle_timeout: 0,
      connect_timeout: Math.max(1, Math.ceil(leaseMs / 3000)),
      onnotice: () => {},
      connection: { application_name: 'switchboard-leader', idle_session_timeout: leaseMs },
    })
    // The leader renews its lease; the others ask at their schedules' ticks (an instance with
    // nothing due never takes the lead from one that has).
    this.timer = setInterval(
      () => {
        if (this.leads) void this.claim()
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    )
    this.timer.unref?.()
  }

  get isLeader(): boolean {
    if (this.leads && performance.now() - this.confirmedAt > this.leaseMs) this.set(false)
    return this.leads
  }

  onLost(fn: () => void) {
    this.lost.push(fn)
  }

  /** Confirms or takes the lock; one question at a time. */
  claim(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false)
    // Past the lease the lead is gone whatever the answer will be: say so before asking.
    void this.isLeader
    this.claiming ??= this.ask().finally(() => {
      this.claiming = null
    })
    return this.claiming
  }

  /**
   * Checks that this session still holds the lock (the connection may have been replaced
   * under us, which ends the old session and its lock) and tries to take it if not. Taking
   * it only when it is not held keeps the lock's re-entry count at one.
   */
  private async ask(): Promise<boolean> {
    const asked = performance.now()
    let leads = false
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const [row] = await Promise.race([
        this.sql<{ ok: boolean }[]>`
          select case
            when exists (
              select 1 from pg_locks
              where locktype = 'advisory' and pid = pg_backend_pid() and granted
                and classid = ${LOCK[0]} and objid = ${LOCK[1]} and objsubid = 2
            ) then true
            else pg_try_advisory_lock(${LOCK[0]}::int, ${LOCK[1]}::int)
          end as ok`,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('leader lock check timed out')), this.leaseMs / 3)
        }),
      ])
      leads = row?.ok === true
    } catch (e) {
      if (!this.closed) this.log.warn('leader lock check failed', { error: e })
    } finally {
      clearTimeout(timer)
    }
    // A confirm counts from when it was asked: the lease runs from the last sure moment.
    if (leads) this.confirmedAt = asked
    this.set(leads && performance.now() - asked < this.leaseMs)
    return this.leads
  }

  private set(leads: boolean) {
    if (leads === this.leads) return
    this.leads = leads
    this.log.info(leads ? 'leading scheduled jobs' : 'no longer leading scheduled jobs', {
      instance: this.instanceId,
    })
    if (!leads) for (const fn of this.lost) fn()
  }

  async close() {
    this.closed = true
    clearInterval(this.timer)
    this.leads = false
    // Ending the session releases the lock at once, so another instance takes over at its next try.
    await this.sql.end({ timeout: 2 }).catch(() => {})
  }
}
