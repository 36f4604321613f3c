import type { Deps } from '../../deps'

/**
 * Ready when the database can take a write now: answered within 2 s, not marked down, no disk
 * fault since the last write that went through. Otherwise the reason is the error code a
 * request would get (`database_unavailable`, `storage_unavailable`) and its cause.
 */
export async function readiness(deps: Pick<Deps, 'db' | 'log'>) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const fault = await Promise.race([
    deps.db.readiness().catch((e: unknown) => ({
      code: 'database_unavailable' as const,
      cause: String((e as { code?: unknown }).code ?? 'error'),
    })),
    new Promise<{ code: 'database_unavailable'; cause: string }>((resolve) => {
      timer = setTimeout(() => resolve({ code: 'database_unavailable', cause: 'timeout' }), 2000)
    }),
  ]).finally(() => clearTimeout(timer))
  if (!fault) return { ready: true, database: deps.db.dialect }
  deps.log.warn('not ready', { reason: fault.code, cause: fault.cause })
  return { ready: false, database: deps.db.dialect, reason: fault.code, cause: fault.cause }
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
