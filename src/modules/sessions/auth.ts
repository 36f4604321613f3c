import type { Deps } from '../../deps'
import { limitByIp } from '../../http/request'
import { AppError, forbidden } from '../../lib/errors'
import type { WorkspaceActor } from '../tokens/actor'
import { isHttps, readSessionValue } from './cookie'
import { fromOwnOrigin, STATE_CHANGING } from './origin'
import { type ResolvedSession, resolveSession } from './service'

/** The session value a request carries, read under the cookie name its scheme uses. */
export const sessionValueOf = (deps: Deps, request: Request) =>
  readSessionValue(request.headers.get('cookie'), isHttps(request, deps.config))

/**
 * The workspace actor a request's session cookie stands for; null when it carries none.
 * A cookie that no longer works is a 401 and counts against the client's address, like a
 * failed key. A state-changing request must come from our own page (CSRF), and so must a
 * WebSocket upgrade (`upgrade: true`), whatever its method.
 */
export async function sessionActor(
  deps: Deps,
  request: Request,
  opts: { upgrade?: boolean } = {},
): Promise<ResolvedSession | null> {
  const value = sessionValueOf(deps, request)
  if (!value) return null
  if ((opts.upgrade || STATE_CHANGING.has(request.method)) && !fromOwnOrigin(request, deps.config)) {
    throw crossSite()
  }
  const session = await resolveSession(deps, value, { touch: true })
  if (!session) {
    limitByIp(deps, request)
    throw new AppError('unauthorized', 'The console session has ended; sign in again')
  }
  deps.activity.touchKey(session.actor.keyId)
  return session
}

export const crossSite = () =>
  forbidden('Refused: a request made with the console session must come from the console itself')

/** Re-checks a live stream's session (no activity recorded): the actor, or null once it ended. */
export async function recheckSession(deps: Deps, value: string): Promise<WorkspaceActor | null> {
  return (await resolveSession(deps, value, { touch: false }))?.actor ?? null
}
