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
