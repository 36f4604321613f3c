import type { Deps } from '../../deps'
import { authenticate, presentedSecret } from '../../http/auth'
import { limitByIp } from '../../http/request'
import { AppError } from '../../lib/errors'
import { recheckSession, sessionActor, sessionValueOf } from '../sessions/auth'
import type { StreamCredential } from './hub'
import { CLOSE } from './protocol'

/**
 * The credential presented with the upgrade request: `Authorization`/`x-api-key` as on every
 * route, else `?token=`, else a console session cookie. Null when there is none (the client
 * will send an auth frame).
 * A bad one throws the usual 401/403 before any socket exists.
 */
export async function upgradeCredential(
  deps: Deps,
  request: Request,
  queryToken: string | undefined,
): Promise<StreamCredential | null> {
  const presented = presentedSecret(request)
  if (presented) {
    const actor = await authenticate(deps, request, ['workspace', 'agent'])
    return { actor: actor as StreamCredential['actor'], secret: presented.secret }
  }
  if (queryToken) {
    const actor = await resolveStreamToken(deps, queryToken).catch((e) => {
      // A failed ?token= counts against the client's address, like any failed credential.
      limitByIp(deps, request)
      throw e
    })
    return { actor, secret: queryToken }
  }
  // The console's session cookie: the upgrade must come from our own page (a cross-site
  // page's WebSocket would carry the cookie too), and the stream ends when the session does.
  const session = await sessionActor(deps, request, { upgrade: true })
  if (session) {
    const value = sessionValueOf(deps, request)!
    return { actor: session.actor, secret: '', recheck: () => recheckSession(deps, value) }
  }
  return null
}

/** A token from `?token=` or an auth frame: a workspace key or an agent token. */
export async function resolveStreamToken(deps: Deps, token: string): Promise<StreamCredential['actor']> {
  const actor = await deps.credentials.resolve(token)
  if (!actor) throw new AppError('unauthorized', 'The credential is malformed, unknown, expired or revoked')
  if (actor.kind === 'admin')
    throw new AppError('forbidden', 'The stream takes a workspace key or an agent token')
  if (actor.kind === 'agent') deps.activity.touchAgent(actor.agentId)
  else deps.activity.touchKey(actor.keyId)
  return actor
}

/** The close code for a refused auth frame. */
export const closeCodeFor = (e: AppError) => (e.code === 'forbidden' ? CLOSE.forbidden : CLOSE.unauthorized)
