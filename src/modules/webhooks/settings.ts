import { and, eq, inArray } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Deps } from '../../deps'
import { recordAudit } from '../audit/record'
import type { WorkspaceActor } from '../tokens/actor'
import { AGENT_WEBHOOK_EVENTS, type AgentWebhookEvent } from './events'
import { disableWebhook, endPendingDeliveries } from './health'
import { AGENT_SECRET_OVERLAP_MS, agentSecretContext } from './secret'

export type WebhookState = Row<'agentWebhooks'>

export type WebhookSettings = {
  webhookEvents?: AgentWebhookEvent[] | null | undefined
  webhookSecret?: string | null | undefined
  webhookEnabled?: boolean | undefined
}

type Agent = { id: string; workspaceId: string; webhookUrl: string | null }

/**
 * The webhook part of a registration or a PATCH, in its transaction. Returns the names of
 * the fields that changed (for the `agent.updated` event; never a value). A new secret keeps
 * the previous one signing beside it for 24 h; a changed URL takes the pending deliveries
 * along, a removed one ends them.
 */
export async function applyWebhookSettings(
  deps: Deps,
  tx: Orm,
  agent: Agent,
  previousUrl: string | null,
  input: WebhookSettings,
  actor: WorkspaceActor,
): Promise<string[]> {
  const w = deps.db.t.agentWebhooks
  const now = deps.clock.now()
  const changed: string[] = []
  const audit = (action: Parameters<typeof recordAudit>[2]['action'], metadata = {}) =>
    recordAudit(deps, tx, { workspaceId: agent.workspaceId, agentId: agent.id, action, actor, metadata })
  const [current] = await tx.select().from(w).where(eq(w.agentId, agent.id)).limit(1)
  const set: Partial<WebhookState> = {}
  if (input.webhookEvents !== undefined) {
    set.events = input.webhookEvents
    changed.push('webhookEvents')
  }
  if (input.webhookSecret !== undefined) {
    changed.push('webhookSecret')
    if (input.webhookSecret === null) {
      Object.assign(set, { secret: null, secretPrev: null, secretPrevUntil: null })
      if (current?.secret) await audit('agent_webhook_secret_cleared')
    } else {
      const overlap = current?.secret ? new Date(now.getTime() + AGENT_SECRET_OVERLAP_MS) : null
      Object.assign(set, {
        secret: deps.sealer.seal(input.webhookSecret, agentSecretContext(agent.id)),
        secretPrev: current?.secret ?? null,
        secretPrevUntil: overlap,
      })
      await audit('agent_webhook_secret_set', { previousValidUntil: overlap?.toISOString() ?? null })
    }
  }
  if (input.webhookEnabled === true && current?.disabledAt) {
    Object.assign(set, { disabledAt: null, disabledReason: null, failingSince: null })
    changed.push('webhookEnabled')
    await audit('agent_webhook_enabled', { wasDisabledFor: current.disabledReason })
  }
  if (agent.webhookUrl !== previousUrl && current?.failingSince) set.failingSince = null
  if (Object.keys(set).length > 0) {
    await tx
      .insert(w)
      .values({ agentId: agent.id, workspaceId: agent.workspaceId, updatedAt: now, ...set })
      .onConflictDoUpdate({ target: w.agentId, set: { ...set, updatedAt: now } })
  }
  if (input.webhookEnabled === false) {
    if (await disableWebhook(deps, tx, agent, 'manual', actor)) changed.push('webhookEnabled')
  }
  if (agent.webhookUrl !== previousUrl) await movePending(deps, tx, agent)
  return changed
}

/** Pending deliveries go to the agent's new webhook URL; with no URL left they end. */
async function movePending(deps: Deps, tx: Orm, agent: Agent) {
  if (agent.webhookUrl === null) {
    await endPendingDeliveries(deps, tx, agent.id, "The agent's webhook URL was removed before this was sent")
    return
  }
  const d = deps.db.t.webhookDeliveries
  await tx
    .update(d)
    .set({ url: agent.webhookUrl })
    .where(and(eq(d.agentId, agent.id), eq(d.status, 'pending')))
}

/** The webhook fields of the agent view, for a page of agents in one query. */
export async function webhookViews(deps: Pick<Deps, 'db'>, ids: string[]) {
  const w = deps.db.t.agentWebhooks
  const rows = ids.length ? await deps.db.orm.select().from(w).where(inArray(w.agentId, ids)) : []
  const byAgent = new Map(rows.map((r) => [r.agentId, r]))
  return (id: string) => webhookView(byAgent.get(id))
}

/** The webhook fields of an agent's view, from its settings row (none: the defaults). */
export function webhookView(r: WebhookState | undefined) {
  return {
    webhookEvents: r?.events ?? [...AGENT_WEBHOOK_EVENTS],
    hasWebhookSecret: !!r?.secret,
    webhookEnabled: !r?.disabledAt,
    webhookDisabledAt: r?.disabledAt?.toISOString() ?? null,
    webhookDisabledReason: r?.disabledReason ?? null,
    webhookFailingSince: r?.failingSince?.toISOString() ?? null,
  }
}
