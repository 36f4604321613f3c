/**
 * A2A agent cards as the relay hands them out (pure: no I/O). A card fetched from the
 * upstream keeps what it says, with every interface URL pointing at the relay, interfaces the
 * relay cannot carry (gRPC) left out, no trace of the upstream's address anywhere, and its
 * signatures dropped (the card was changed, so they would no longer verify). A card composed
 * from the registry speaks both generations: 0.3 (`url`, `preferredTransport`,
 * `additionalInterfaces`, `protocolVersion`) and 1.0 (`supportedInterfaces`).
 */

type Json = unknown
type JsonObject = Record<string, Json>

export type CardContext = {
  /** The agent's registered A2A URL: the relay routes by it, never by a URL the card claims. */
  a2aUrl: string
  /** The relay's A2A base, e.g. https://switchboard.example/relay/agt-x/a2a. */
  base: string
  /** Every upstream address the card must not reveal (`host[:port]` of the registered URLs). */
  upstreamHosts: string[]
}

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const isGrpc = (binding: Json) => typeof binding === 'string' && binding.trim().toUpperCase() === 'GRPC'

/**
 * Where a URL of the card points on the relay: under the registered URL, the same path under
 * the relay's base; anywhere else, the base itself (the relay only ever sends to the
 * registered URL, whatever the card claims). `under` says which it was.
 */
export function relayUrl(raw: string, ctx: CardContext): { url: string; under: boolean } {
  const registered = new URL(ctx.a2aUrl)
  let u: URL
  try {
    u = new URL(raw, registered)
  } catch {
    return { url: ctx.base, under: false }
  }
  const basePath = registered.pathname.replace(/\/+$/, '')
  const under = u.pathname === basePath || u.pathname.startsWith(`${basePath}/`)
  if (u.origin !== registered.origin || !under) return { url: ctx.base, under: false }
  const rest = u.pathname.slice(basePath.length)
  const url = `${ctx.base}${rest === '/' ? '' : rest}${u.search}`
  // A query can carry an address too; then only the base is safe to hand out.
  return mentionsUpstream(url, ctx) ? { url: ctx.base, under: false } : { url, under: true }
}

const mentionsUpstream = (s: string, ctx: CardContext) => {
  const lower = s.toLowerCase()
  return ctx.upstreamHosts.some((h) => lower.includes(h))
}

/** The upstream's card, fit to hand out through the relay. */
export function relayedCard(upstream: JsonObject, ctx: CardContext): JsonObject {
  const card: JsonObject = structuredClone(upstream)
  delete card.signatures
  const interfaces = (list: Json, bindingKey: string) =>
    Array.isArray(list)
      ? list
          .filter((i) => isObject(i) && !isGrpc(i[bindingKey]))
          .map((i) => {
            const { url, ...rest } = i as JsonObject
            const clean = scrub(rest, ctx, 1)
            return {
              ...(clean === GONE ? {} : (clean as JsonObject)),
              url: relayUrl(String(url ?? ''), ctx).url,
            }
          })
      : list
  if ('url' in card) card.url = relayUrl(String(card.url ?? ''), ctx).url
  if ('additionalInterfaces' in card)
    card.additionalInterfaces = interfaces(card.additionalInterfaces, 'transport')
  if ('supportedInterfaces' in card)
    card.supportedInterfaces = interfaces(card.supportedInterfaces, 'protocolBinding')
  const rewritten = new Set(['url', 'additionalInterfaces', 'supportedInterfaces'])
  for (const [k, v] of Object.entries(card)) {
    if (rewritten.has(k)) continue
    if (mentionsUpstream(k, ctx)) {
      delete card[k]
      continue
    }
    const clean = scrub(v, ctx, 0)
    if (clean === GONE) delete card[k]
    else card[k] = clean
  }
  return card
}

const GONE = Symbol('gone')
const MAX_DEPTH = 64

/**
 * Any string naming an upstream address: an absolute URL under the registered one is pointed
 * at the relay; anything else is left out (the key, or the array element). Too deep: gone.
 */
function scrub(v: Json, ctx: CardContext, depth: number): Json | typeof GONE {
  if (depth > MAX_DEPTH) return GONE
  if (typeof v === 'string') {
    if (!mentionsUpstream(v, ctx)) return v
    if (!URL.canParse(v)) return redacted(v, ctx)
    const pointed = relayUrl(v, ctx)
    return pointed.under ? pointed.url : GONE
  }
  if (Array.isArray(v)) {
    const out: Json[] = []
    for (const item of v) {
      const clean = scrub(item, ctx, depth + 1)
      if (clean !== GONE) out.push(clean)
    }
    return out
  }
  if (isObject(v)) {
    const out: JsonObject = {}
    for (const [k, inner] of Object.entries(v)) {
      if (mentionsUpstream(k, ctx)) continue
      const clean = scrub(inner, ctx, depth + 1)
      if (clean !== GONE) out[k] = clean
    }
    return out
  }
  return v
}

/**
 * Text that names an upstream address (a description, an example): each URL in it is pointed
 * at the relay, and any address left is replaced, so the text stays and the address goes.
 */
function redacted(text: string, ctx: CardContext): string {
  let out = text.replace(/https?:\/\/[^\s"'<>]+/gi, (u) => relayUrl(u, ctx).url)
  for (const h of ctx.upstreamHosts) {
    out = out.replace(new RegExp(h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[agent]')
  }
  return out
}

export type RegistryFacts = {
  name: string
  description: string | null
  version: string | null
  capabilities: { name: string; metadata: Record<string, unknown> | null }[]
}

/** A card from what the registry knows, for an upstream that serves none: both generations at once. */
export function composedCard(facts: RegistryFacts, base: string): JsonObject {
  const skills = facts.capabilities.map((c) => ({
    id: c.name,
    name: c.name,
    description: typeof c.metadata?.description === 'string' ? c.metadata.description : c.name,
    tags: [],
  }))
  return {
    name: facts.name,
    description: facts.description ?? facts.name,
    version: facts.version ?? '1.0.0',
    // 1.0: the interfaces, each with its generation; a client picks the newest it speaks.
    supportedInterfaces: [
      { url: base, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: base, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ],
    // 0.3: the main URL and its transport.
    protocolVersion: '0.3.0',
    url: base,
    preferredTransport: 'JSONRPC',
    additionalInterfaces: [{ url: base, transport: 'JSONRPC' }],
    capabilities: { streaming: true, pushNotifications: false },
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills,
  }
}
