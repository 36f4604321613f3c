import { and, desc, eq, inArray, lt, max, or } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Ctx, Deps } from '../../deps'
import { decodeCursor, encodeCursor } from '../../lib/cursor'
import { AppError, notFound } from '../../lib/errors'
import { newTriggerId } from '../../lib/ids'
import { findAgent } from '../agents/lookup'
import { recordAudit } from '../audit/record'
import { newWebhookSecret } from '../callbacks/sign'
import type { WorkspaceActor } from '../tokens/actor'
import type { CreateTriggerInput, UpdateTriggerInput } from './model'
import { DEFAULT_HEADER } from './verify'

export type TriggerRow = Row<'triggers'>

/** The trigger's secret is sealed under a context bound to the trigger. */
export const triggerSecretContext = (id: string) => `trigger-secret:${id}`

const hint = (secret: string) => (secret.length >= 8 ? secret.slice(-4) : null)

/** A fresh secret of the kind the verification takes (Standard Webhooks: a whsec_). */
const madeSecret = (type: TriggerRow['verifyType']) =>
  type === 'standard_webhooks'
    ? newWebhookSecret()
    : Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

export function triggerView(
  deps: Pick<Deps, 'config'>,
  row: TriggerRow,
  permanentId: string,
  lastCalledAt: Date | null,
) {
  return {
    id: row.id,
    // Never from the request: SWITCHBOARD_PUBLIC_URL, else the path alone.
    url: `${deps.config.publicUrl ?? ''}/hooks/${row.id}`,
    name: row.name,
    agentId: row.agentId,
    permanentId,
    protocol: row.protocol,
    verify: {
      type: row.verifyType,
      header: row.verifyHeader,
      hasSecret: row.verifySecret !== null,
      secretHint: row.verifySecretHint,
    },
    transform: row.transform,
    enabled: row.enabled,
    lastCalledAt: lastCalledAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

/** The trigger's agent: one of the workspace's, speaking the protocol if one is named. */
async function checkedAgent(deps: Deps, tx: Orm, workspaceId: string, ref: string, protocol: string | null) {
  const agent = await findAgent(deps, workspaceId, ref, tx).catch(() => {
    throw new AppError('invalid_request', 'agentId does not name an agent of this workspace')
  })
  if (protocol && !agent.protocols[protocol as keyof typeof agent.protocols]?.enabled)
    throw new AppError('protocol_not_enabled', `Agent ${agent.permanentId} does not have ${protocol} enabled`)
  return agent
}

type Verify = CreateTriggerInput['verify']

/** The verification columns for a (new) verification; `keep` is the current sealed secret a PATCH may keep. */
function verifyColumns(
  deps: Deps,
  id: string,
  v: Verify,
  keep: { secret: string | null; hint: string | null } | null,
) {
  const needsSecret = v.type !== 'none'
  const given = v.secret ?? null
  const made = needsSecret && given === null && keep === null ? madeSecret(v.type) : null
  const plain = given ?? made
  return {
    made,
    columns: {
      verifyType: v.type,
      // Header names are case-insensitive: kept lower-case, as they are read.
      verifyHeader:
        v.type === 'token' || v.type === 'hmac_sha256'
          ? (v.header ?? DEFAULT_HEADER[v.type])!.toLowerCase()
          : null,
      verifySecret: !needsSecret
        ? null
        : plain
          ? deps.sealer.seal(plain, triggerSecretContext(id))
          : keep!.secret,
      verifySecretHint: !needsSecret ? null : plain ? hint(plain) : keep!.hint,
    },
  }
}

export async function createTrigger({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: CreateTriggerInput }) {
  const { deps, actor } = ctx
  const now = deps.clock.now()
  const id = newTriggerId()
  return deps.db.tx(async (tx) => {
    const agent = await checkedAgent(deps, tx, actor.workspaceId, input.agentId, input.protocol ?? null)
    const { made, columns } = verifyColumns(deps, id, input.verify, null)
    const row: TriggerRow = {
      id,
      workspaceId: actor.workspaceId,
      agentId: agent.id,
      name: input.name,
      protocol: input.protocol ?? null,
      ...columns,
      transform: input.transform,
      enabled: input.enabled,
      createdAt: now,
      updatedAt: now,
    }
    await tx.insert(deps.db.t.triggers).values(row)
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: agent.id,
      action: 'trigger_created',
      actor,
      metadata: { triggerId: id, name: row.name, verify: row.verifyType, secretHint: row.verifySecretHint },
    })
    return { trigger: triggerView(deps, row, agent.permanentId, null), secret: made }
  })
}

/** A trigger of the workspace with its agent's permanent id; anyone else's is "not found". */
export async function loadTrigger(deps: Deps, workspaceId: string, id: string, tx: Orm = deps.db.orm) {
  const { triggers: t, agents: a } = deps.db.t
  const [row] = await tx
    .select({ t, permanentId: a.permanentId })
    .from(t)
    .innerJoin(a, eq(a.id, t.agentId))
    .where(and(eq(t.id, id), eq(t.workspaceId, workspaceId)))
    .limit(1)
  if (!row) throw notFound('Trigger')
  return row
}

/** When each trigger was last called (that is in its call log), in one query. */
async function lastCalls(deps: Deps, ids: string[]) {
  const { triggerCalls: c } = deps.db.t
  if (ids.length === 0) return new Map<string, Date>()
  const rows = await deps.db.orm
    .select({ id: c.triggerId, at: max(c.createdAt) })
    .from(c)
    .where(inArray(c.triggerId, ids))
    .groupBy(c.triggerId)
  return new Map(rows.flatMap((r) => (r.at ? [[r.id, r.at] as const] : [])))
}

export async function getTrigger({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  const { t, permanentId } = await loadTrigger(ctx.deps, ctx.actor.workspaceId, input.id)
  const last = await lastCalls(ctx.deps, [t.id])
  return triggerView(ctx.deps, t, permanentId, last.get(t.id) ?? null)
}

type TriggerCursor = { at: number; id: string }
const isCursor = (v: unknown): v is TriggerCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as TriggerCursor).at === 'number' &&
  typeof (v as TriggerCursor).id === 'string'

/** Newest first. */
export async function listTriggers({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { triggers: t, agents: a } = deps.db.t
  const after = decodeCursor(input.cursor, isCursor)
  const at = after ? new Date(after.at) : null
  const rows = await deps.db.orm
    .select({ t, permanentId: a.permanentId })
    .from(t)
    .innerJoin(a, eq(a.id, t.agentId))
    .where(
      and(
        eq(t.workspaceId, actor.workspaceId),
        at && after ? or(lt(t.createdAt, at), and(eq(t.createdAt, at), lt(t.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(input.limit + 1)
  const more = rows.length > input.limit
  const items = more ? rows.slice(0, input.limit) : rows
  const last = await lastCalls(
    deps,
    items.map((r) => r.t.id),
  )
  const end = items.at(-1)
  return {
    triggers: items.map((r) => triggerView(deps, r.t, r.permanentId, last.get(r.t.id) ?? null)),
    nextCursor: more && end ? encodeCursor({ at: end.t.createdAt.getTime(), id: end.t.id }) : null,
  }
}

export async function updateTrigger({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string } & UpdateTriggerInput
}) {
  const { deps, actor } = ctx
  const { triggers: t } = deps.db.t
  const now = deps.clock.now()
  const { id, ...patch } = input
  const { row, permanentId } = await deps.db.tx(async (tx) => {
    const current = await loadTrigger(deps, actor.workspaceId, id, tx)
    const protocol = patch.protocol !== undefined ? patch.protocol : current.t.protocol
    const agent =
      patch.agentId !== undefined || patch.protocol !== undefined
        ? await checkedAgent(deps, tx, actor.workspaceId, patch.agentId ?? current.t.agentId, protocol)
        : null
    const set: Partial<TriggerRow> = { updatedAt: now }
    if (patch.name !== undefined) set.name = patch.name
    if (agent) set.agentId = agent.id
    if (patch.protocol !== undefined) set.protocol = patch.protocol
    if (patch.transform !== undefined) set.transform = patch.transform
    if (patch.enabled !== undefined) set.enabled = patch.enabled
    if (patch.verify) {
      const sameKind = patch.verify.type === current.t.verifyType
      if (patch.verify.type !== 'none' && patch.verify.secret === undefined && !sameKind)
        throw new AppError('invalid_request', 'verify.secret is required when the verification type changes')
      const keep = sameKind ? { secret: current.t.verifySecret, hint: current.t.verifySecretHint } : null
      Object.assign(set, verifyColumns(deps, id, patch.verify, keep).columns)
    }
    const [updated] = await tx.update(t).set(set).where(eq(t.id, id)).returning()
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: updated!.agentId,
      action: 'trigger_updated',
      actor,
      metadata: {
        triggerId: id,
        fields: Object.keys(patch),
        ...(patch.verify ? { verify: updated!.verifyType, secretHint: updated!.verifySecretHint } : {}),
      },
    })
    return { row: updated!, permanentId: agent?.permanentId ?? current.permanentId }
  })
  const last = await lastCalls(deps, [row.id])
  return triggerView(deps, row, permanentId, last.get(row.id) ?? null)
}

/** Deletes a trigger and its call log; the jobs it made stay. Its URL answers 404 at once. */
export async function deleteTrigger({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  const { deps, actor } = ctx
  const { triggers: t } = deps.db.t
  await deps.db.tx(async (tx) => {
    const current = await loadTrigger(deps, actor.workspaceId, input.id, tx)
    await tx.delete(t).where(eq(t.id, current.t.id))
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      agentId: current.t.agentId,
      action: 'trigger_deleted',
      actor,
      metadata: { triggerId: current.t.id, name: current.t.name },
    })
  })
  return { id: input.id, deleted: true as const }
}
