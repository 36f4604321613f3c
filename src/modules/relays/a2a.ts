import { asc, eq } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { requestMeta } from '../../http/request'
import { AppError } from '../../lib/errors'
import { listenOrigin } from '../../lib/origin'
import { readAnswer } from '../forward/answer'
import { TRANSPARENT_HEADERS } from '../forward/headers'
import { type Hop, joinUrl } from '../forward/routing'
import { admitRelay } from './admit'
import { type CardContext, composedCard, relayedCard } from './card'
import { type RelayDeps, relayCall, relayHop } from './relay'

/** A card is small; one this large is not a card. */
const CARD_CAP = 1024 * 1024
const CARD_TIMEOUT_MS = 10_000

/** JSON-RPC methods whose result is an agent card (0.3 and 1.0): rewritten like the card itself. */
const CARD_METHODS = new Set(['agent/getAuthenticatedExtendedCard', 'GetExtendedAgentCard'])

/** The relay's A2A base URL for an agent: from SWITCHBOARD_PUBLIC_URL, else where this instance listens. */
export function relayA2aBase(deps: Pick<Deps, 'config' | 'listenUrl'>, permanentId: string): string {
  const origin = deps.config.publicUrl ?? deps.listenUrl ?? listenOrigin(deps.config.host, deps.config.port)
  return `${origin}/relay/${permanentId}/a2a`
}

const hostsOf = (...urls: (string | null | undefined)[]) => [
  ...new Set(
    urls.flatMap((u) => {
      if (!u || !URL.canParse(u)) return []
      return [new URL(u).host.toLowerCase()]
    }),
  ),
]

/**
 * GET the agent card through the relay: the upstream's own (`<a2a url>/.well-known/
 * agent-card.json`, else its origin's), rewritten to point at the relay; else one composed
 * from the registry. The client's A2A-Version goes up, so an upstream that serves a card per
 * generation serves the one the client asked for.
 */
export async function relayA2aCard(
  deps: RelayDeps & Pick<Deps, 'db' | 'listenUrl'>,
  input: { permanentId: string; request: Request },
): Promise<Response> {
  const start = performance.now()
  const { request } = input
  const agent = await admitRelay(deps, request, input.permanentId, 'a2a')
  const hop = await relayHop(deps, agent, 'a2a')
  const ctx: CardContext = {
    a2aUrl: hop.url,
    base: relayA2aBase(deps, agent.permanentId),
    upstreamHosts: hostsOf(hop.url, agent.endpointUrl),
  }
  const fetched = await upstreamCard(deps, hop, request)
  const card = fetched
    ? relayedCard(fetched.card, ctx)
    : composedCard(await registryFacts(deps, agent.id), ctx.base)
  deps.relayMeter.record({
    protocol: 'a2a',
    agent,
    method: request.method,
    status: 200,
    start,
    traceId: requestMeta(request).trace.traceId,
  })
  const headers: Record<string, string> = { vary: 'A2A-Version' }
  if (fetched?.cacheControl) headers['cache-control'] = fetched.cacheControl
  return Response.json(card, { headers })
}

async function upstreamCard(deps: RelayDeps, hop: Hop, request: Request) {
  const own = joinUrl(hop.url, '/.well-known/agent-card.json', '')
  const origin = new URL('/.well-known/agent-card.json', hop.url).toString()
  for (const url of own === origin ? [own] : [own, origin]) {
    const sent = await deps.forward.send(
      { url, credential: hop.credential },
      { method: 'GET', headers: request.headers, body: null },
      {
        lane: 'relay',
        protocol: 'a2a',
        trace: requestMeta(request).trace,
        rules: TRANSPARENT_HEADERS.request,
        // The card is read here: asked for as it is, not compressed.
        add: { 'x-request-id': requestMeta(request).id, 'accept-encoding': 'identity' },
        timeoutMs: CARD_TIMEOUT_MS,
        signal: request.signal,
      },
    )
    if (!sent.ok) continue
    if (sent.response.status !== 200) {
      await sent.response.body?.cancel().catch(() => {})
      continue
    }
    const answer = await readAnswer(sent.response, CARD_CAP).catch(() => null)
    const card = answer?.body
    if (answer && !answer.truncated && typeof card === 'object' && card !== null && !Array.isArray(card)) {
      return {
        card: card as Record<string, unknown>,
        cacheControl: sent.response.headers.get('cache-control'),
      }
    }
  }
  return null
}

async function registryFacts(deps: Pick<Deps, 'db'>, agentId: string) {
  const { agents: a, agentCapabilities: c } = deps.db.t
  const [row] = await deps.db.orm
    .select({ name: a.name, description: a.description, version: a.version })
    .from(a)
    .where(eq(a.id, agentId))
    .limit(1)
  const capabilities = await deps.db.orm
    .select({ name: c.name, metadata: c.metadata })
    .from(c)
    .where(eq(c.agentId, agentId))
    .orderBy(asc(c.name))
  if (!row) throw new AppError('not_found', 'No agent is relayed here')
  return { ...row, capabilities }
}

/**
 * POST (and the rest of the A2A paths) through the relay: JSON-RPC of both generations, the
 * HTTP+JSON binding below the base, A2A-Version and server-sent events pass as they are. The
 * one answer that is looked into is an extended card (its URLs are the upstream's).
 */
export async function relayA2a(
  deps: RelayDeps & Pick<Deps, 'listenUrl'>,
  input: { permanentId: string; request: Request; rest: string },
): Promise<Response> {
  const method = input.rest === '' ? await rpcMethod(input.request) : null
  const card = method !== null && CARD_METHODS.has(method)
  // A card is rewritten here, so it is asked for uncompressed.
  const response = await relayCall(deps, {
    ...input,
    protocol: 'a2a',
    ...(card ? { add: { 'accept-encoding': 'identity' } } : {}),
  })
  if (!card) return response
  return rewriteCardResult(deps, input.permanentId, response)
}

/** The JSON-RPC method of a small request (read from a copy; the body still goes up whole). */
async function rpcMethod(request: Request): Promise<string | null> {
  const length = Number(request.headers.get('content-length') ?? Number.NaN)
  if (!(length > 0 && length <= 64 * 1024)) return null
  try {
    const body = (await request.clone().json()) as { method?: unknown }
    return typeof body?.method === 'string' ? body.method : null
  } catch {
    return null
  }
}

async function rewriteCardResult(
  deps: RelayDeps & Pick<Deps, 'listenUrl'>,
  permanentId: string,
  response: Response,
): Promise<Response> {
  if (!response.headers.get('content-type')?.includes('json')) return response
  const agent = await deps.forward.agentByPermanentId(permanentId)
  if (!agent) return response
  const hop = await relayHop(deps, agent, 'a2a')
  const answer = await readAnswer(response, CARD_CAP)
  const rpc = answer.body as { result?: unknown } | null
  const headers = new Headers(response.headers)
  headers.delete('content-encoding')
  if (answer.truncated || typeof rpc?.result !== 'object' || rpc.result === null) {
    return new Response(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body), {
      status: response.status,
      headers,
    })
  }
  const ctx: CardContext = {
    a2aUrl: hop.url,
    base: relayA2aBase(deps, permanentId),
    upstreamHosts: hostsOf(hop.url, agent.endpointUrl),
  }
  const result = relayedCard(rpc.result as Record<string, unknown>, ctx)
  return new Response(JSON.stringify({ ...rpc, result }), { status: response.status, headers })
}
