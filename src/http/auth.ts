import { Elysia } from 'elysia'
import type { Ctx, Deps } from '../deps'
import { AppError } from '../lib/errors'
import { sessionActor } from '../modules/sessions/auth'
import { mentionsSession } from '../modules/sessions/cookie'
import type { Actor, ActorKind, AdminActor, AgentActor, WorkspaceActor } from '../modules/tokens/actor'
import { limitByIp, requestMeta } from './request'

/** Where a credential may be presented: `Authorization: Bearer …`, or `x-api-key` for workspace keys. */
export function presentedSecret(request: Request): { secret: string; via: 'bearer' | 'x-api-key' } | null {
  const auth = request.headers.get('authorization')
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    return m ? { secret: m[1]!, via: 'bearer' } : { secret: '', via: 'bearer' }
  }
  const apiKey = request.headers.get('x-api-key')
  return apiKey ? { secret: apiKey.trim(), via: 'x-api-key' } : null
}

const KIND_NAMES: Record<ActorKind, string> = {
  admin: 'the admin token',
  workspace: 'a workspace key',
  agent: 'an agent token',
}

/**
 * Resolves the caller and checks it is one of the kinds the route takes. Where a workspace
 * key is taken, a console session (cookie) is one more way to be that workspace; a presented
 * key or token always wins over a cookie, and routes for agents only never look at one.
 */
export async function authenticate(deps: Deps, request: Request, kinds: ActorKind[]): Promise<Actor> {
  const presented = presentedSecret(request)
  if (!presented) {
    const session = kinds.includes('workspace') ? await sessionActor(deps, request) : null
    if (session) return session.actor
    // A cookie that was not counted on arrival (see requestPlugin) and did not work here counts now.
    if (mentionsSession(request.headers.get('cookie'))) limitByIp(deps, request)
    throw new AppError('unauthorized', 'A credential is required: send Authorization: Bearer <token>')
  }
  const actor = presented.secret ? await deps.credentials.resolve(presented.secret) : null
  if (!actor) {
    // Failed credentials count against the client's address, which slows down guessing.
    limitByIp(deps, request)
    throw new AppError('unauthorized', 'The credential is malformed, unknown, expired or revoked')
  }
  if (presented.via === 'x-api-key' && actor.kind !== 'workspace') {
    throw new AppError('unauthorized', 'x-api-key carries workspace keys only')
  }
  if (!kinds.includes(actor.kind)) {
    throw new AppError('forbidden', `This route takes ${kinds.map((k) => KIND_NAMES[k]).join(' or ')}`)
  }
  if (actor.kind === 'agent') deps.activity.touchAgent(actor.agentId)
  else if (actor.kind === 'workspace') deps.activity.touchKey(actor.keyId)
  return actor
}

const SCHEMES: Record<ActorKind, string[]> = {
  admin: ['adminToken'],
  workspace: ['workspaceKey', 'consoleSession'],
  agent: ['agentToken'],
}
const security = (kinds: ActorKind[]) => kinds.flatMap((k) => SCHEMES[k].map((scheme) => ({ [scheme]: [] })))

/**
 * Auth as route options: `{ asWorkspace: true }` etc. Each resolves `ctx` (actor, deps,
 * request id) for the handler and declares its security scheme in the OpenAPI document.
 */
export function authPlugin(deps: Deps) {
  const ctxFor = async <A extends Actor>(request: Request, kinds: ActorKind[]): Promise<{ ctx: Ctx<A> }> => {
    const actor = (await authenticate(deps, request, kinds)) as A
    const meta = requestMeta(request)
    if (actor.kind !== 'admin') meta.workspaceId = actor.workspaceId
    return { ctx: { deps, actor, requestId: meta.id, trace: meta.trace } }
  }
  return new Elysia().macro({
    /** The answer carries a secret shown once: no cache, shared or private, may keep it. */
    secretAnswer: {
      beforeHandle({ set }) {
        set.headers['cache-control'] = 'no-store'
      },
    },
    asAdmin: {
      detail: { security: security(['admin']) },
      resolve: ({ request }) => ctxFor<AdminActor>(request, ['admin']),
    },
    asWorkspace: {
      detail: { security: security(['workspace']) },
      resolve: ({ request }) => ctxFor<WorkspaceActor>(request, ['workspace']),
    },
    asAgent: {
      detail: { security: security(['agent']) },
      resolve: ({ request }) => ctxFor<AgentActor>(request, ['agent']),
    },
    asMember: {
      detail: { security: security(['workspace', 'agent']) },
      resolve: ({ request }) => ctxFor<WorkspaceActor | AgentActor>(request, ['workspace', 'agent']),
    },
  })
}
