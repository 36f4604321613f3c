import postgres from 'postgres'
import type { Logger } from '../log'

/**
 * Who runs the once-per-cluster jobs (sweeps, purges). On SQLite there is one instance, so
 * it always leads. On Postgres the leader is the instance holding a session advisory lock
 * on a dedicated connection: it keeps the lock while it lives, and when it dies its
 * session ends, the lock is released, and the next instance to claim it takes over.
 */
export interface Leadership {
  /** Whether this instance leads now; an instance that does not tries to take the lock. */
  claim(): Promise<boolean>
  readonly isLeader: boolean
  close(): Promise<void>
}

export const soleLeader: Leadership = {
  claim: async () => true,
  isLeader: true,
  close: async () => {},
}

/** The lock's two-int key: shows in pg_locks as classid/objid with objsubid 2. */
const LOCK = [7_361_120, 3] as const

export class PgLeader implements Leadership {
  isLeader = false
  private readonly sql: postgres.Sql

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly instanceId: string,
  ) {
    // A connection that lives as long as the process: a recycled connection would drop the lock.
    this.sql = postgres(url, {
      max: 1,
      max_lifetime: null,
      idle_timeout: 0,
      onnotice: () => {},
      connection: { application_name: 'switchboard-leader' },
    })
  }

  /**
   * Checks that this session still holds the lock (the connection may have been replaced
   * under us, which ends the old session and its lock) and tries to take it if not. Taking
   * it only when it is not held keeps the lock's re-entry count at one.
   */
  async claim(): Promise<boolean> {
    let leads = false
    try {
      const [row] = await this.sql<{ ok: boolean }[]>`
        select case
          when exists (
            select 1 from pg_locks
            where locktype = 'advisory' and pid = pg_backend_pid() and granted
              and classid = ${LOCK[0]} and objid = ${LOCK[1]} and objsubid = 2
          ) then true
          else pg_try_advisory_lock(${LOCK[0]}::int, ${LOCK[1]}::int)
        end as ok`
      leads = row?.ok === true
    } catch (e) {
      this.log.warn('leader lock check failed', { error: e })
    }
    if (leads !== this.isLeader) {
      this.log.info(leads ? 'leading scheduled jobs' : 'no longer leading scheduled jobs', {
        instance: this.instanceId,
      })
    }
    this.isLeader = leads
    return leads
  }

  async close() {
    this.isLeader = false
    // Ending the session releases the lock at once, so another instance takes over at its next tick.
    await this.sql.end({ timeout: 2 }).catch(() => {})
  }
}
