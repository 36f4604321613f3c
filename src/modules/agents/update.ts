import { and, eq } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { recordAudit } from '../audit/record'
import { appendEvent } from '../events/append'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { applyWebhookSettings } from '../webhooks/settings'
import { type AgentRow, assertSelf, findAgent } from './lookup'
import type { UpdateInput } from './model'
import {
  credentialContext,
  credentialHint,
  normaliseProtocols,
  replaceCapabilityRows,
  resolveFallback,
} from './register'
import { checkAgentUrls } from './urls'
import { oneAgentView } from './view'

const PLAIN_FIELDS = [
  'name',
  'description',
  'endpointUrl',
  'webhookUrl',
  'version',
  'license',
  'programmingLanguage',
  'languagesSupported',
  'framework',
  'label',
  'externalInvocation',
  'tokenTtlSeconds',
] as const

/**
 * PATCH an agent: any registration field, `status` (deactivate/reactivate) and `archived`.
 * Each security-relevant part gets its own audit row in the same transaction.
 */
export async function updateAgent({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { agentId: string } & UpdateInput
}) {
  const { deps, actor } = ctx
  const { agentId: ref, ...patch } = input
  const now = deps.clock.now()
  const { agents } = deps.db.t
  await checkAgentUrls(deps, patch)
  const result = await deps.db.tx(async (tx) => {
    const current = await findAgent(deps, actor.workspaceId, ref, tx)
    const audit = (action: Parameters<typeof recordAudit>[2]['action'], metadata = {}) =>
      recordAudit(deps, tx, { workspaceId: actor.workspaceId, agentId: current.id, action, actor, metadata })
    const set: Partial<AgentRow> = { updatedAt: now }
    const changed: string[] = []
    for (const f of PLAIN_FIELDS) {
      if (patch[f] !== undefined) {
        ;(set as Record<string, unknown>)[f] = patch[f]
        changed.push(f)
      }
    }
    if (patch.protocols !== undefined) {
      set.protocols = normaliseProtocols(patch.protocols)
      changed.push('protocols')
    }
    if (patch.fallbackAgentId !== undefined) {
      set.fallbackAgentId = await resolveFallback(
        deps,
        tx,
        actor.workspaceId,
        patch.fallbackAgentId,
        current.id,
      )
      changed.push('fallbackAgentId')
    }
    if (patch.endpointAuthHeader !== undefined) {
      set.endpointAuthHeader = patch.endpointAuthHeader
      changed.push('endpointAuthHeader')
    }
    if (patch.webhookEvents !== undefined) changed.push('webhookEvents')
    if (changed.length > 0) await audit('agent_updated', { fields: changed })
    if (patch.endpointCredential !== undefined) {
      if (patch.endpointCredential === null) {
        set.endpointCredential = null
        set.endpointCredentialHint = null
        await audit('endpoint_credential_cleared')
      } else {
        set.endpointCredential = deps.sealer.seal(patch.endpointCredential, credentialContext(current.id))
        set.endpointCredentialHint = credentialHint(patch.endpointCredential)
        await audit('endpoint_credential_set', {
          hint: set.endpointCredentialHint,
          header: set.endpointAuthHeader ?? current.endpointAuthHeader ?? 'Authorization',
        })
      }
    }
    if (patch.status !== undefined && patch.status !== current.status) {
      set.status = patch.status
      await audit(patch.status === 'inactive' ? 'agent_deactivated' : 'agent_reactivated')
    }
    if (patch.archived !== undefined && patch.archived !== current.archived) {
      set.archived = patch.archived
      await audit(patch.archived ? 'agent_archived' : 'agent_unarchived')
    }
    if (patch.capabilities !== undefined) {
      await replaceCapabilityRows(deps, tx, current, patch.capabilities)
      await audit('capabilities_replaced', { names: patch.capabilities.map((c) => c.name) })
    }
    const [updated] = await tx.update(agents).set(set).where(eq(agents.id, current.id)).returning()
    const { webhookEvents, webhookSecret, webhookEnabled } = patch
    const webhook = await applyWebhookSettings(
      deps,
      tx,
      updated!,
      current.webhookUrl,
      { webhookEvents, webhookSecret, webhookEnabled },
      actor,
    )
    // Names only: a credential's value never goes into an event.
    const fields = [
      ...new Set([...changed, ...webhook]),
      ...(patch.endpointCredential !== undefined ? ['endpointCredential'] : []),
      ...(set.status !== undefined ? ['status'] : []),
      ...(set.archived !== undefined ? ['archived'] : []),
      ...(patch.capabilities !== undefined ? ['capabilities'] : []),
    ]
    if (fields.length > 0) {
      await appendEvent(deps, tx, {
        workspaceId: current.workspaceId,
        type: 'agent.updated',
        agentId: current.id,
        data: {
          agentId: current.id,
          permanentId: current.permanentId,
          fields,
          status: updated!.status,
          archived: updated!.archived,
        },
      })
    }
    return { updated: updated!, ended: set.status === 'inactive' || set.archived === true }
  })
  // Cached routes of this agent are stale now (on every instance); its token too when it stopped.
  const { updated: row, ended } = result
  deps.bus.publish('route.changed', { agentId: row.id })
  if (ended) deps.bus.publish('credential.ended', { agentId: row.id })
  return oneAgentView(deps, row)
}

export async function setEndpointCredential({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { agentId: string; endpointCredential: string; endpointAuthHeader?: string | undefined }
}) {
  return updateAgent({
    ctx,
    input: {
      agentId: input.agentId,
      endpointCredential: input.endpointCredential,
      ...(input.endpointAuthHeader !== undefined ? { endpointAuthHeader: input.endpointAuthHeader } : {}),
    },
  })
}

export async function clearEndpointCredential({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { agentId: string }
}) {
  return updateAgent({ ctx, input: { agentId: input.agentId, endpointCredential: null } })
}

type CapInput = { name: string; metadata?: Record<string, unknown> | undefined }

/** POST capabilities: merge by name (a given name replaces that capability's metadata). */
export async function mergeCapabilities({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: { agentId: string; capabilities: CapInput[] }
}) {
  return changeCapabilities(ctx, input, 'merge')
}

/** PUT capabilities: the given list becomes the whole list. */
export async function replaceCapabilities({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: { agentId: string; capabilities: CapInput[] }
}) {
  return changeCapabilities(ctx, input, 'replace')
}

async function changeCapabilities(
  ctx: Ctx<WorkspaceActor | AgentActor>,
  input: { agentId: string; capabilities: CapInput[] },
  mode: 'merge' | 'replace',
) {
  const { deps, actor } = ctx
  const { agentCapabilities: c, agents } = deps.db.t
  assertSelf(actor, input.agentId)
  return deps.db.tx(async (tx) => {
    const agent = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    let next = input.capabilities
    if (mode === 'merge') {
      const existing = await tx.select().from(c).where(eq(c.agentId, agent.id))
      const byName = new Map<string, CapInput>(
        existing.map((e) => [e.name, { name: e.name, metadata: e.metadata }]),
      )
      for (const cap of input.capabilities) byName.set(cap.name, cap)
      next = [...byName.values()]
    }
    await replaceCapabilityRows(deps, tx, agent, next)
    await tx.update(agents).set({ updatedAt: deps.clock.now() }).where(eq(agents.id, agent.id))
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: agent.id,
      action: mode === 'merge' ? 'capabilities_merged' : 'capabilities_replaced',
      actor,
      metadata: { names: input.capabilities.map((x) => x.name) },
    })
    const rows = await tx.select().from(c).where(eq(c.agentId, agent.id)).orderBy(c.name)
    return { capabilities: rows.map((r) => ({ name: r.name, metadata: r.metadata })) }
  })
}

/** Deletes the agent for good: its tokens die with it, at once. */
export async function deleteAgent({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { agentId: string } }) {
  const { deps, actor } = ctx
  const { agents } = deps.db.t
  const gone = await deps.db.tx(async (tx) => {
    const agent = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    await tx
      .update(agents)
      .set({ fallbackAgentId: null })
      .where(and(eq(agents.workspaceId, actor.workspaceId), eq(agents.fallbackAgentId, agent.id)))
    await tx.delete(agents).where(eq(agents.id, agent.id))
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: agent.id,
      action: 'agent_deleted',
      actor,
      metadata: { permanentId: agent.permanentId, name: agent.name },
    })
    return agent
  })
  deps.bus.publish('credential.ended', { agentId: gone.id })
  deps.bus.publish('route.changed', { agentId: gone.id })
  return { id: gone.id, permanentId: gone.permanentId, deleted: true as const }
}
