import type { Deps } from '../../deps'

export async function readiness(deps: Pick<Deps, 'db' | 'log'>) {
  try {
    await Promise.race([
      deps.db.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('database ping timed out')), 2000)),
    ])
    return { ready: true, database: deps.db.dialect }
  } catch (e) {
    deps.log.warn('readiness check failed', { error: e })
    return { ready: false, database: deps.db.dialect }
  }
}

/** Gauges read at scrape time. */
export function registerServiceMetrics(deps: Deps) {
  deps.metrics.gauge('switchboard_db_pool_size', 'Database connections in the pool', () => [
    [{ dialect: deps.db.dialect }, deps.db.stats().poolSize],
  ])
  deps.metrics.gauge('switchboard_db_transactions_active', 'Transactions in progress', () => [
    [{ dialect: deps.db.dialect }, deps.db.stats().txActive],
  ])
  deps.metrics.gauge(
    'switchboard_db_transactions_waiting',
    'Transactions waiting for the SQLite writer',
    () => [[{ dialect: deps.db.dialect }, deps.db.stats().txWaiting]],
  )
  deps.metrics.gauge('switchboard_credential_cache_entries', 'Resolved credentials held in memory', () => [
    [{}, deps.credentials.size],
  ])
  deps.metrics.gauge('process_resident_memory_bytes', 'Resident memory', () => [
    [{}, process.memoryUsage().rss],
  ])
}
