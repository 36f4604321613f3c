import { and, desc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm'
import type { Database } from '../../db'
import type { Deps } from '../../deps'
import { notFound } from '../../lib/errors'
import { type WebhookState, webhookView, webhookViews } from '../webhooks/settings'
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
    webhook: ReturnType<typeof webhookView>
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

/**
 * `GET /api/agents/me`: the view `oneAgentView` gives, from prepared statements built once
 * per database (building the queries cost more than running them: about 55 % of the route's
 * CPU, `BENCH_PROFILE=me npm run bench:profile`). An expired token is left out here, where the
 * list's query compares the time in SQL. `tests/agents/register.test.ts` holds both
 * dialects' answer to the workspace's view of the agent, field for field.
 */
export function selfView(deps: Deps, workspaceId: string, agentId: string): Promise<AgentView> {
  return deps.db.dialect === 'pg'
    ? pgSelfView(deps, workspaceId, agentId)
    : sqliteSelfView(deps, workspaceId, agentId)
}

type SelfQueries = {
  agent(p: { id: string; workspaceId: string }): Promise<AgentRow[]>
  caps(p: { id: string }): Promise<Cap[]>
  tokens(p: { id: string }): Promise<TokenInfo[]>
  webhook(p: { id: string }): Promise<WebhookState[]>
}
const sqliteSelf = new WeakMap<Database, SelfQueries>()

/**
 * SQLite: four prepared statements run together (one read transaction, one WAL read lock).
 * One statement with the capabilities and tokens as JSON subqueries, as on Postgres, took
 * 83 µs here against 24 µs for the four (in process, 256 agents). The two lists are sorted
 * here, not by ORDER BY: in bun:sqlite any ORDER BY costs 2.3–3.6 µs a run even when an index
 * gives the order and no sorter is built (0.34 → 3.1 µs for an agent's capabilities, 0.63 →
 * 4.1 µs for its tokens, in one read transaction), against nothing for a few rows in JS.
 */
async function sqliteSelfView(deps: Deps, workspaceId: string, agentId: string): Promise<AgentView> {
  let q = sqliteSelf.get(deps.db)
  if (!q) {
    const { agents: a, agentCapabilities: c, agentTokens: t, agentWebhooks: w } = deps.db.t
    const id = sql.placeholder('id')
    q = {
      agent: deps.db.prepared('agent_self', (orm) =>
        orm
          .select()
          .from(a)
          .where(and(eq(a.id, id), eq(a.workspaceId, sql.placeholder('workspaceId'))))
          .limit(1),
      ),
      // No ORDER BY in these two: sorted below (see the comment on sqliteSelfView).
      caps: deps.db.prepared('agent_self_caps', (orm) =>
        orm.select({ name: c.name, metadata: c.metadata }).from(c).where(eq(c.agentId, id)),
      ),
      tokens: deps.db.prepared('agent_self_tokens', (orm) =>
        orm
          .select({ id: t.id, prefix: t.prefix, expiresAt: t.expiresAt })
          .from(t)
          .where(and(eq(t.agentId, id), isNull(t.revokedAt))),
      ),
      webhook: deps.db.prepared('agent_self_webhook', (orm) =>
        orm.select().from(w).where(eq(w.agentId, id)).limit(1),
      ),
    } as SelfQueries
    sqliteSelf.set(deps.db, q)
  }
  const reads = deps.db.readTogether(() => [
    q.agent({ id: agentId, workspaceId }),
    q.caps({ id: agentId }),
    q.tokens({ id: agentId }),
    q.webhook({ id: agentId }),
  ])
  const [[row], caps, tokens, webhook] = (await Promise.all(reads)) as [
    AgentRow[],
    Cap[],
    (TokenInfo & { id: string })[],
    WebhookState[],
  ]
  if (!row) throw notFound('Agent')
  caps.sort((x, y) => binaryOrder(x.name, y.name))
  tokens.sort((x, y) => binaryOrder(y.id, x.id))
  return selfAgentView(deps, row, caps, tokens, webhook[0])
}

/**
 * SQLite's BINARY collation for the texts sorted here: capability names are ASCII and token
 * ids UUIDv7 text, where comparing UTF-16 units is comparing their bytes.
 */
const binaryOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The view from what either dialect read: the newest token that has not expired is shown. */
function selfAgentView(
  deps: Deps,
  row: AgentRow,
  capabilities: Cap[],
  tokens: TokenInfo[],
  webhook: WebhookState | undefined,
): AgentView {
  const now = deps.clock.now()
  return agentView(row, {
    capabilities,
    token: tokens.find((tok) => tok.expiresAt === null || tok.expiresAt > now) ?? null,
    lastActive: deps.activity.lastActive(row.id),
    lastHeartbeat: deps.heartbeats.pendingAt(row.id),
    webhook: webhookView(webhook),
  })
}

type SelfRow = {
  agent: AgentRow
  webhook: WebhookState | null
  caps: string | unknown[] | null
  tokens: string | unknown[] | null
}
const pgSelf = new WeakMap<Database, (p: { id: string; workspaceId: string }) => Promise<SelfRow[]>>()

/** A JSON column as the client gives it: text (drizzle leaves postgres-js's json unparsed) or parsed. */
const jsonArray = (v: string | unknown[] | null): unknown[] =>
  typeof v === 'string' ? JSON.parse(v) : (v ?? [])

/**
 * Postgres: one prepared statement — the agent row, its webhook row joined, and its
 * capabilities and live tokens as JSON arrays from correlated subqueries. Four statements
 * cost four round trips and four parses in the client: 274 → 127 µs of server CPU a request
 * (`npm run bench:heartbeat`, 3.4k → 5.9k req/s).
 */
async function pgSelfView(deps: Deps, workspaceId: string, agentId: string): Promise<AgentView> {
  let q = pgSelf.get(deps.db)
  if (!q) {
    const { agents: a, agentCapabilities: c, agentTokens: t, agentWebhooks: w } = deps.db.t
    // Ordered inside the aggregate: the order the separate reads had.
    const caps = sql`(select coalesce(json_agg(json_build_array(${c.name}, ${c.metadata}) order by ${c.name}), '[]'::json) from ${c} where ${c.agentId} = ${a.id})`
    const tokens = sql`(select coalesce(json_agg(json_build_array(${t.prefix}, ${t.expiresAt}) order by ${t.id} desc), '[]'::json) from ${t} where ${t.agentId} = ${a.id} and ${t.revokedAt} is null)`
    const query = deps.db.prepared('agent_self', (orm) =>
      orm
        .select({
          agent: a,
          webhook: w,
          caps,
          tokens,
        })
        .from(a)
        .leftJoin(w, eq(w.agentId, a.id))
        .where(and(eq(a.id, sql.placeholder('id')), eq(a.workspaceId, sql.placeholder('workspaceId'))))
        .limit(1),
    )
    q = query as unknown as (p: { id: string; workspaceId: string }) => Promise<SelfRow[]>
    pgSelf.set(deps.db, q)
  }
  const [found] = await q({ id: agentId, workspaceId })
  if (!found) throw notFound('Agent')
  const caps = jsonArray(found.caps) as [string, Record<string, unknown>][]
  const tokens = jsonArray(found.tokens) as [string, number | string | null][]
  return selfAgentView(
    deps,
    found.agent,
    caps.map(([name, metadata]) => ({ name, metadata })),
    tokens.map(([prefix, at]) => ({ prefix, expiresAt: at === null ? null : new Date(at) })),
    found.webhook ?? undefined,
  )
}
