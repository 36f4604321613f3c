import type postgres from 'postgres'
import type { Logger } from '../lib/log'
import { classify, type DbHealth, type Unavailable, unavailableError } from './health'

type Sql = postgres.Sql
type Query = PromiseLike<unknown> & { cancel(): unknown }

/**
 * Bounds every query and transaction drizzle sends through postgres-js, so a request never
 * waits on a stopped, frozen or unreachable server for longer than `timeoutMs`:
 * - a query that has not answered by then is cancelled (one still queued for a connection is
 *   simply dropped from the queue) and its caller gets `database_unavailable`;
 * - a transaction that could not start (no connection) or finish (no COMMIT answer) by then
 *   fails the same way, and its body never runs late;
 * - after a connection fault or a timeout the database counts as down: queries fail at once,
 *   without waiting, while a probe (`select 1` every `probeMs`) waits for it to come back, and
 *   the first answer makes everything run again. Nothing else is needed to recover.
 */
export class PgGuard {
  private downSince: number | null = null
  private fault: Unavailable | null = null
  private probing = false

  constructor(
    private readonly raw: Sql,
    private readonly timeoutMs: number,
    private readonly health: DbHealth,
    private readonly log: Logger,
    private readonly probeMs = 250,
  ) {}

  get down(): Unavailable | null {
    return this.downSince === null ? null : this.fault
  }

  /** The client to hand to drizzle: the same client, with `unsafe` and `begin` bounded. */
  wrap(sql: Sql): Sql {
    return new Proxy(sql, {
      get: (target, prop, receiver) => {
        if (prop === 'unsafe')
          return (...args: Parameters<Sql['unsafe']>) =>
            this.bound(target.unsafe(...args) as unknown as Query)
        if (prop === 'begin') return (...args: unknown[]) => this.begin(target, args)
        return Reflect.get(target, prop, receiver)
      },
    })
  }

  /** The query, unchanged but for its `then`: the one place postgres-js starts it and settles it. */
  private bound<Q extends Query>(q: Q): Q {
    const then = q.then.bind(q)
    // biome-ignore lint/suspicious/noThenProperty: the query is a thenable; its settling is what is bounded
    ;(q as { then: unknown }).then = (ok?: (v: unknown) => unknown, bad?: (e: unknown) => unknown) =>
      this.settle(q, then).then(ok, bad)
    return q
  }

  private settle(q: Query, then: Query['then']): Promise<unknown> {
    const down = this.down
    if (down) return Promise.reject(unavailableError(down))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        Promise.resolve(q.cancel()).catch(() => {})
        reject(this.timedOut())
      }, this.timeoutMs)
      then(
        (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        (e) => {
          clearTimeout(timer)
          this.noteError(e)
          reject(e)
        },
      )
    })
  }

  private begin(target: Sql, args: unknown[]): Promise<unknown> {
    const down = this.down
    if (down) return Promise.reject(unavailableError(down))
    const fn = args.at(-1) as (tx: Sql) => unknown
    const options = args.length > 1 ? [args[0] as string] : []
    return new Promise((resolve, reject) => {
      let expired = false
      let timer = setTimeout(() => {
        expired = true
        reject(this.timedOut())
      }, this.timeoutMs)
      const body = async (tx: Sql) => {
        clearTimeout(timer)
        // The transaction got its connection after its caller was answered: it must not run.
        if (expired) throw this.timedOut()
        try {
          return await fn(this.wrap(tx))
        } finally {
          // From here on: COMMIT (or ROLLBACK) and its answer.
          timer = setTimeout(() => reject(this.timedOut()), this.timeoutMs)
        }
      }
      ;(target.begin as (...a: unknown[]) => Promise<unknown>)(...options, body).then(
        (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        (e) => {
          clearTimeout(timer)
          this.noteError(e)
          reject(e)
        },
      )
    })
  }

  private timedOut() {
    const u: Unavailable = { code: 'database_unavailable', cause: 'timeout' }
    this.trip(u)
    return unavailableError(u)
  }

  private noteError(e: unknown) {
    const u = classify(e)
    if (u) this.trip(u)
  }

  /** A write went through: whatever fault was noted is over. */
  noteSuccess() {
    this.health.succeeded()
  }

  private trip(u: Unavailable) {
    this.health.failed(unavailableError(u))
    if (this.downSince === null) {
      this.downSince = Date.now()
      this.fault = u
      this.log.warn('database unavailable', { cause: u.cause })
    }
    void this.probe()
  }

  /** Until the server answers: one short query at a time, `probeMs` apart. */
  private async probe() {
    if (this.probing) return
    this.probing = true
    try {
      while (this.downSince !== null) {
        const fault = await this.writable('select 1')
        if (fault) this.fault = fault
        else {
          this.log.info('database available again', { downMs: Date.now() - this.downSince })
          this.downSince = null
          this.fault = null
          this.health.succeeded()
          break
        }
        await Bun.sleep(this.probeMs)
      }
    } finally {
      this.probing = false
    }
  }

  /**
   * Null when the server takes a write now (a transaction id can be assigned: it is not
   * stopped, frozen, starting or a read-only standby); else what is wrong. The probe asks
   * only `select 1`: a server that answers is back, writable or not.
   */
  async writable(query = 'select txid_current()'): Promise<Unavailable | null> {
    const q = this.raw.unsafe(query)
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await Promise.race([
        q,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(Object.assign(new Error('timeout'), { code: 'timeout' })),
            Math.min(this.timeoutMs, 2000),
          )
        }),
      ])
      return null
    } catch (e) {
      Promise.resolve(q.cancel()).catch(() => {})
      const code = String((e as { code?: unknown }).code ?? 'error')
      return classify(e) ?? { code: 'database_unavailable', cause: code }
    } finally {
      clearTimeout(timer)
    }
  }
}
