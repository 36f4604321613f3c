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
