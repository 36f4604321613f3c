import { and, desc, gt, inArray, isNull, or } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { webhookViews } from '../webhooks/settings'
import type { AgentRow } from './lookup'

type Cap = { name: string; metadata: Record<string, unknown> }
type TokenInfo = { prefix: string; expiresAt: Date | null }

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null

/** The API shape of an agent. Never includes the sealed credential or any token hash. */
export function agentView(
  row: AgentRow,
  extra: {
    capabilities: Cap[]
    token: TokenInfo | null
    lastActive?: Date | undefined
    lastHeartbeat?: Date | undefined
    webhook: ReturnType<Awaited<ReturnType<typeof webhookViews>>>
  },
) {
  const protocols: Record<string, { enabled: boolean; url: string | null }> = {}
  for (const [name, p] of Object.entries(row.protocols))
    if (p) protocols[name] = { enabled: p.enabled, url: p.url ?? null }
  // Times noted in memory and not yet written are the freshest.
  const later = (mem: Date | undefined, stored: Date | null) =>
    mem && (!stored || mem > stored) ? mem : stored
  const lastActive = later(extra.lastActive, row.lastActiveAt)
  return {
    id: row.id,
    permanentId: row.permanentId,
    workspaceId: row.workspaceId,
    name: row.name,
    description: row.description,
    endpointUrl: row.endpointUrl,
    webhookUrl: row.webhookUrl,
    ...extra.webhook,
    version: row.version,
    license: row.license,
    programmingLanguage: row.programmingLanguage,
    languagesSupported: row.languagesSupported,
    framework: row.framework,
    label: row.label,
    clientType: row.clientType,
    capabilities: extra.capabilities,
    protocols,
    externalInvocation: row.externalInvocation,
    fallbackAgentId: row.fallbackAgentId,
    hasEndpointCredential: row.endpointCredential !== null,
    endpointCredentialHint: row.endpointCredentialHint,
    endpointAuthHeader: row.endpointAuthHeader ?? 'Authorization',
    status: row.status,
    archived: row.archived,
    presence: row.presence,
    isOnline: row.presence === 'online',
    lastHeartbeatAt: iso(later(extra.lastHeartbeat, row.lastHeartbeatAt)),
    lastActiveAt: iso(lastActive),
    lastHealthCheck: row.lastHealthCheckAt
      ? {
          at: row.lastHealthCheckAt.toISOString(),
          ok: row.lastHealthCheckOk ?? false,
          httpStatus: row.lastHealthCheckStatus,
          latencyMs: row.lastHealthCheckLatencyMs,
          error: row.lastHealthCheckError,
        }
      : null,
    taskCount: row.taskCount,
    tokenPrefix: extra.token?.prefix ?? null,
    tokenExpiresAt: iso(extra.token?.expiresAt),
    tokenTtlSeconds: row.tokenTtlSeconds,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
export type AgentView = ReturnType<typeof agentView>

/** Views for a page of agents: capabilities and current tokens in one query each. */
export async function agentViews(deps: Deps, rows: AgentRow[]): Promise<AgentView[]> {
  if (rows.length === 0) return []
  const ids = rows.map((r) => r.id)
  const { agentCapabilities: c, agentTokens: t } = deps.db.t
  const now = deps.clock.now()
  const [caps, tokens, webhook] = await Promise.all([
    deps.db.orm
      .select({ agentId: c.agentId, name: c.name, metadata: c.metadata })
      .from(c)
      .where(inArray(c.agentId, ids))
      .orderBy(c.agentId, c.name),
    deps.db.orm
      .select({ agentId: t.agentId, prefix: t.prefix, expiresAt: t.expiresAt })
      .from(t)
      .where(and(inArray(t.agentId, ids), isNull(t.revokedAt), or(isNull(t.expiresAt), gt(t.expiresAt, now))))
      .orderBy(desc(t.id)),
    webhookViews(deps, ids),
  ])
  const capsBy = new Map<string, Cap[]>()
  for (const cap of caps) {
    const list = capsBy.get(cap.agentId) ?? []
    list.push({ name: cap.name, metadata: cap.metadata })
    capsBy.set(cap.agentId, list)
  }
  const tokenBy = new Map<string, TokenInfo>()
  for (const tok of tokens) if (!tokenBy.has(tok.agentId)) tokenBy.set(tok.agentId, tok)
  return rows.map((r) =>
    agentView(r, {
      capabilities: capsBy.get(r.id) ?? [],
      token: tokenBy.get(r.id) ?? null,
      lastActive: deps.activity.lastActive(r.id),
      lastHeartbeat: deps.heartbeats.pendingAt(r.id),
      webhook: webhook(r.id),
    }),
  )
}

export async function oneAgentView(deps: Deps, row: AgentRow): Promise<AgentView> {
  const [view] = await agentViews(deps, [row])
  return view!
}
