import { eq } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Protocols } from '../../db/schema/types'
import type { Ctx, Deps } from '../../deps'
import { AppError, notFound } from '../../lib/errors'
import { newId, newPermanentId } from '../../lib/ids'
import { recordAudit } from '../audit/record'
import type { WorkspaceActor } from '../tokens/actor'
import { issueAgentToken } from '../tokens/issue'
import { applyWebhookSettings } from '../webhooks/settings'
import { type AgentRow, findAgent } from './lookup'
import type { RegisterInput } from './model'
import { checkAgentUrls } from './urls'
import { oneAgentView } from './view'

export const credentialContext = (agentId: string) => `agents.endpoint_credential:${agentId}`
export const credentialHint = (credential: string) => (credential.length >= 8 ? credential.slice(-4) : null)

/** Checks a fallback reference: an agent of the same workspace, not the agent itself. Returns its UUID. */
export async function resolveFallback(
  deps: Deps,
  tx: Orm,
  workspaceId: string,
  ref: string | null,
  selfId: string,
) {
  if (ref === null) return null
  const target = await findAgent(deps, workspaceId, ref, tx).catch(() => {
    throw new AppError('invalid_request', 'fallbackAgentId does not name an agent of this workspace')
  })
  if (target.id === selfId) throw new AppError('invalid_request', 'An agent cannot be its own fallback')
  return target.id
}

export function normaliseProtocols(input: RegisterInput['protocols']): Protocols {
  const out: Protocols = {}
  for (const [name, p] of Object.entries(input ?? {})) {
    if (p) out[name as keyof Protocols] = { enabled: p.enabled, url: p.url ?? null }
  }
  return out
}

export async function replaceCapabilityRows(
  deps: Deps,
  tx: Orm,
  agent: { id: string; workspaceId: string },
  capabilities: { name: string; metadata?: Record<string, unknown> | undefined }[],
) {
  const { agentCapabilities: c } = deps.db.t
  await tx.delete(c).where(eq(c.agentId, agent.id))
  if (capabilities.length === 0) return
  const now = deps.clock.now()
  await tx.insert(c).values(
    capabilities.map((cap) => ({
      agentId: agent.id,
      workspaceId: agent.workspaceId,
      name: cap.name,
      metadata: (cap.metadata ?? {}) as never,
      createdAt: now,
    })),
  )
}

/** Inserts an agent row under a fresh permanent id (re-drawn on the rare collision). */
async function insertAgent(deps: Deps, tx: Orm, row: Omit<AgentRow, 'permanentId'>): Promise<AgentRow> {
  const { agents } = deps.db.t
  const [taken] = await tx.select({ id: agents.id }).from(agents).where(eq(agents.id, row.id))
  if (taken) throw new AppError('conflict', 'An agent with this id already exists')
  for (;;) {
    const full = { ...row, permanentId: newPermanentId() }
    const [clash] = await tx
      .select({ id: agents.id })
      .from(agents)
      .where(eq(agents.permanentId, full.permanentId))
    if (clash) continue
    await tx.insert(agents).values(full)
    return full
  }
}

function baseRow(workspaceId: string, now: Date): Omit<AgentRow, 'permanentId' | 'name' | 'id'> {
  return {
    workspaceId,
    description: null,
    endpointUrl: null,
    webhookUrl: null,
    version: null,
    license: null,
    programmingLanguage: null,
    languagesSupported: [],
    framework: null,
    label: null,
    clientType: null,
    tokenTtlSeconds: null,
    protocols: {},
    externalInvocation: false,
    fallbackAgentId: null,
    endpointCredential: null,
    endpointCredentialHint: null,
    endpointAuthHeader: null,
    status: 'active',
    archived: false,
    presence: 'offline',
    reportedStatus: null,
    lastHeartbeatAt: null,
    lastActiveAt: null,
    lastHealthCheckAt: null,
    lastHealthCheckOk: null,
    lastHealthCheckStatus: null,
    lastHealthCheckLatencyMs: null,
    lastHealthCheckError: null,
    lastHealthOkAt: null,
    socketSeenAt: null,
    taskCount: 0,
    createdAt: now,
    updatedAt: now,
  }
}

export async function registerAgent({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: RegisterInput }) {
  const { deps, actor } = ctx
  const now = deps.clock.now()
  const id = input.agentId?.toLowerCase() ?? newId()
  await checkAgentUrls(deps, input)
  const { row, token } = await deps.db.tx(async (tx) => {
    const fallbackAgentId = await resolveFallback(
      deps,
      tx,
      actor.workspaceId,
      input.fallbackAgentId ?? null,
      id,
    )
    const row = await insertAgent(deps, tx, {
      ...baseRow(actor.workspaceId, now),
      id,
      name: input.name,
      description: input.description ?? null,
      endpointUrl: input.endpointUrl ?? null,
      webhookUrl: input.webhookUrl ?? null,
      version: input.version ?? null,
      license: input.license ?? null,
      programmingLanguage: input.programmingLanguage ?? null,
      languagesSupported: input.languagesSupported ?? [],
      framework: input.framework ?? null,
      label: input.label ?? null,
      tokenTtlSeconds: input.tokenTtlSeconds ?? null,
      protocols: normaliseProtocols(input.protocols),
      externalInvocation: input.externalInvocation ?? false,
      fallbackAgentId,
      endpointCredential: input.endpointCredential
        ? deps.sealer.seal(input.endpointCredential, credentialContext(id))
        : null,
      endpointCredentialHint: input.endpointCredential ? credentialHint(input.endpointCredential) : null,
      endpointAuthHeader: input.endpointAuthHeader ?? null,
    })
    await replaceCapabilityRows(deps, tx, row, input.capabilities ?? [])
    if (input.webhookEvents !== undefined || input.webhookSecret !== undefined) {
      const { webhookEvents, webhookSecret } = input
      await applyWebhookSettings(deps, tx, row, row.webhookUrl, { webhookEvents, webhookSecret }, actor)
    }
    const { token, row: tokenRow } = await issueAgentToken(deps, tx, {
      agentId: id,
      workspaceId: actor.workspaceId,
      ttlSeconds: input.tokenTtlSeconds,
      pregenerated: input.token,
    })
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: id,
      action: 'agent_registered',
      actor,
      metadata: { permanentId: row.permanentId, name: row.name },
    })
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: id,
      action: 'token_issued',
      actor,
      metadata: {
        tokenPrefix: tokenRow.prefix,
        expiresAt: tokenRow.expiresAt?.toISOString() ?? null,
        pregenerated: input.token !== undefined,
      },
    })
    if (input.endpointCredential) {
      await recordAudit(deps, tx, {
        workspaceId: actor.workspaceId,
        agentId: id,
        action: 'endpoint_credential_set',
        actor,
        metadata: { hint: row.endpointCredentialHint, header: row.endpointAuthHeader ?? 'Authorization' },
      })
    }
    return { row, token }
  })
  return { agent: await oneAgentView(deps, row), token }
}

/** Short-lived agent for an AI tool runtime (seed 004): a token with a TTL, no endpoint. */
export async function provisionAgent({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { clientType: string; name?: string | undefined; label?: string | undefined; ttlSeconds: number }
}) {
  const { deps, actor } = ctx
  const now = deps.clock.now()
  const id = newId()
  const { workspaces } = deps.db.t
  return deps.db.tx(async (tx) => {
    const [workspace] = await tx.select().from(workspaces).where(eq(workspaces.id, actor.workspaceId))
    if (!workspace) throw notFound('Workspace')
    const row = await insertAgent(deps, tx, {
      ...baseRow(actor.workspaceId, now),
      id,
      name: input.name ?? `${input.clientType}-${id.slice(-6)}`,
      label: input.label ?? null,
      clientType: input.clientType,
      tokenTtlSeconds: input.ttlSeconds,
    })
    const { token, row: tokenRow } = await issueAgentToken(deps, tx, {
      agentId: id,
      workspaceId: actor.workspaceId,
      ttlSeconds: input.ttlSeconds,
    })
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: id,
      action: 'agent_provisioned',
      actor,
      metadata: {
        permanentId: row.permanentId,
        clientType: input.clientType,
        tokenPrefix: tokenRow.prefix,
        expiresAt: tokenRow.expiresAt!.toISOString(),
      },
    })
    return {
      agentId: id,
      permanentId: row.permanentId,
      token,
      expiresAt: tokenRow.expiresAt!.toISOString(),
      workspaceId: workspace.id,
      workspaceName: workspace.name,
    }
  })
}
