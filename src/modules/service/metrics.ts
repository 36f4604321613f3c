import pkg from '../../../package.json'
import type { Deps } from '../../deps'
import { registerProcessMetrics } from '../../lib/process-metrics'
import { outboxDepth } from '../callbacks/outbox'
import { healthMeter } from '../health/sweep'
import { countJobsByStatus, JOB_STATUSES } from '../jobs/stats'
import { countAgentsByPresence, PRESENCES } from '../presence/stats'

/** The database as operators name it in a label. */
export const dialectLabel = (deps: Pick<Deps, 'db'>) => (deps.db.dialect === 'pg' ? 'postgres' : 'sqlite')

/** Counts from the database are read at most this often, however many scrapers ask. */
const COUNT_EVERY_MS = 5000

/**
 * The metrics read at scrape time: build and process, the database port, the in-memory
 * caches, and the counts that live in the database (jobs, agents, the callback outbox).
 * Counts come from the shared database, so every instance reports the same values: graph
 * them with max(), not sum().
 */
export function registerServiceMetrics(deps: Deps) {
  const m = deps.metrics
  registerProcessMetrics(m, { version: pkg.version })
  registerDatabaseMetrics(deps)
  healthMeter(deps)

  const caches = () =>
    [
      ['credentials', deps.credentials.stats, deps.credentials.size],
      ['route_agents', deps.routes.stats.agents, deps.routes.sizes.agents],
      ['route_connections', deps.routes.stats.connections, deps.routes.sizes.connections],
      ['groups', deps.groupCache.stats, deps.groupCache.size],
      ['pools', deps.poolCache.stats, deps.poolCache.size],
    ] as const
  m.gauge('switchboard_cache_entries', 'Entries held by each in-memory cache', () =>
    caches().map(([cache, , size]) => [{ cache }, size]),
  )
  m.counterFrom(
    'switchboard_cache_lookups_total',
    'Cache lookups by cache and result (hit: answered from memory; miss: loaded from the database)',
    () =>
      caches().flatMap(([cache, stats]) => [
        [{ cache, result: 'hit' }, stats.hits],
        [{ cache, result: 'miss' }, stats.misses],
      ]),
  )
  m.counterFrom(
    'switchboard_cache_evictions_total',
    'Entries a cache dropped, oldest first, to stay within SWITCHBOARD_CACHE_MAX_ENTRIES',
    () => caches().map(([cache, stats]) => [{ cache }, stats.evictions]),
  )
  m.gauge(
    'switchboard_cache_max_entries',
    'Entries each in-memory cache may hold (SWITCHBOARD_CACHE_MAX_ENTRIES)',
    () => caches().map(([cache]) => [{ cache }, deps.config.cacheMaxEntries]),
  )

  const counts = new DatabaseCounts(deps)
  m.beforeScrape(() => counts.refresh())
  m.gauge('switchboard_jobs', 'Async jobs by status (database-wide)', () =>
    counts.jobs ? JOB_STATUSES.map((status) => [{ status }, counts.jobs![status]]) : [],
  )
  m.gauge('switchboard_agents', 'Active, unarchived agents by presence (database-wide)', () =>
    counts.agents ? PRESENCES.map((presence) => [{ presence }, counts.agents![presence]]) : [],
  )
  m.gauge(
    'switchboard_callback_outbox_pending',
    'Callbacks and agent webhooks waiting to be delivered (database-wide)',
    () => (counts.outbox ? [[{}, counts.outbox.pending]] : []),
  )
  m.gauge(
    'switchboard_callback_outbox_lag_seconds',
    'How long the most overdue pending callback or agent webhook has been due, in seconds (0: none overdue)',
    () => (counts.outbox ? [[{}, counts.outbox.lagSeconds]] : []),
  )
}

/** Pool, waiting callers, transactions, statement latency, and whether the database answers. */
function registerDatabaseMetrics(deps: Deps) {
  const m = deps.metrics
  const dialect = dialectLabel(deps)
  const labels = { dialect }
  const sqlite = deps.db.dialect === 'sqlite'
  m.gauge(
    'switchboard_db_connections',
    sqlite
      ? 'The SQLite connection: in_use while a transaction or write holds the writer, else idle'
      : 'Postgres pool connections in use (by a transaction or a statement in flight) and idle',
    () => {
      const s = deps.db.stats()
      return [
        [{ dialect, state: 'in_use' }, s.inUse],
        [{ dialect, state: 'idle' }, Math.max(0, s.poolSize - s.inUse)],
      ]
    },
  )
  m.gauge(
    'switchboard_db_connections_max',
    sqlite ? 'SQLite: one connection' : 'The Postgres pool size (SWITCHBOARD_DB_POOL_SIZE)',
    () => [[labels, deps.db.stats().poolSize]],
  )
  m.gauge(
    'switchboard_db_waiting',
    sqlite
      ? 'Transactions and writes waiting for the SQLite writer'
      : 'Transactions and statements waiting for a free Postgres connection',
    () => [[labels, deps.db.stats().waiting]],
  )
  m.gauge('switchboard_db_transactions_active', 'Transactions in progress', () => [
    [labels, deps.db.stats().txActive],
  ])
  const queries = m.histogram(
    'switchboard_db_query_duration_seconds',
    sqlite ? 'SQLite statement run time, in seconds' : 'Postgres statement round trip, in seconds',
  )
  const series = queries.series(labels)
  deps.db.queries.observe = (s) => series.observe(s)

  let up: number | null = null
  m.beforeScrape(async () => {
    up = await writableWithin(deps, 1000)
  })
  m.gauge(
    'switchboard_db_up',
    'Whether the database could take a write at the last scrape (the readiness check, within 1 s)',
    () => (up === null ? [] : [[labels, up]]),
  )
}

/** 1 when the database takes a write now (what /readyz asks), 0 when it is down, faulted or late. */
async function writableWithin(deps: Pick<Deps, 'db'>, ms: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ms)
    })
    const fault = await Promise.race([deps.db.readiness(), late])
    return fault === null ? 1 : 0
  } catch {
    return 0
  } finally {
    clearTimeout(timer)
  }
}

/** The database-wide counts, read at most every COUNT_EVERY_MS; absent after a failed read. */
class DatabaseCounts {
  jobs: Awaited<ReturnType<typeof countJobsByStatus>> | null = null
  agents: Awaited<ReturnType<typeof countAgentsByPresence>> | null = null
  outbox: Awaited<ReturnType<typeof outboxDepth>> | null = null
  private readAt = Number.NEGATIVE_INFINITY
  private reading: Promise<void> | null = null

  constructor(private readonly deps: Deps) {}

  refresh(): Promise<void> {
    if (performance.now() - this.readAt < COUNT_EVERY_MS) return Promise.resolve()
    this.reading ??= this.read().finally(() => {
      this.reading = null
    })
    return this.reading
  }

  private async read() {
    const [jobs, agents, outbox] = await Promise.allSettled([
      countJobsByStatus(this.deps),
      countAgentsByPresence(this.deps),
      outboxDepth(this.deps),
    ])
    this.jobs = jobs.status === 'fulfilled' ? jobs.value : null
    this.agents = agents.status === 'fulfilled' ? agents.value : null
    this.outbox = outbox.status === 'fulfilled' ? outbox.value : null
    this.readAt = performance.now()
  }
}
