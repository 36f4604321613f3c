import { and, asc, count, eq, gt, isNull } from 'drizzle-orm'
import { isUniqueViolation } from '../../db/errors'
import type { Ctx, Deps } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { AppError, conflict, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { recordAudit } from '../audit/record'
import { endSessionsOfKey } from '../sessions/service'
import type { AdminActor, SystemActor, WorkspaceActor } from '../tokens/actor'
import { displayPrefix, generateSecret, hashSecret } from '../tokens/format'

type WorkspaceRow = { id: string; name: string; createdAt: Date }
type KeyRow = {
  id: string
  name: string
  prefix: string
  expiresAt: Date | null
  lastUsedAt: Date | null
  createdAt: Date
}

export const workspaceView = (w: WorkspaceRow) => ({
  id: w.id,
  name: w.name,
  createdAt: w.createdAt.toISOString(),
})
export const keyView = (k: KeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  expiresAt: k.expiresAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  createdAt: k.createdAt.toISOString(),
})

/** Creates a workspace and its first key; the key's secret is returned once, here. */
export async function createWorkspace({
  deps,
  actor,
  input,
}: {
  deps: Deps
  actor: AdminActor | SystemActor
  input: { name: string }
}) {
  const { workspaces, workspaceKeys } = deps.db.t
  const now = deps.clock.now()
  const workspace = { id: newId(), name: input.name, createdAt: now }
  const apiKey = generateSecret('workspace')
  const key = {
    id: newId(),
    workspaceId: workspace.id,
    name: 'default',
    prefix: displayPrefix(apiKey),
    hash: hashSecret(apiKey),
    expiresAt: null,
    lastUsedAt: null,
    createdAt: now,
  }
  try {
    await deps.db.tx(async (tx) => {
      await tx.insert(workspaces).values(workspace)
      await tx.insert(workspaceKeys).values(key)
      await recordAudit(deps, tx, {
        workspaceId: workspace.id,
        action: 'workspace_created',
        actor: actor.kind === 'system' ? { kind: 'system', workspaceId: workspace.id } : actor,
        metadata: { name: workspace.name, keyId: key.id, keyPrefix: key.prefix },
      })
    })
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A workspace named "${input.name}" already exists`)
    throw e
  }
  return { workspace: workspaceView(workspace), apiKey }
}

export async function listWorkspaces({
  deps,
  input,
}: {
  deps: Deps
  input: { limit: number; cursor?: string }
}) {
  const { workspaces } = deps.db.t
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(workspaces)
    .where(after ? gt(workspaces.id, after) : undefined)
    .orderBy(asc(workspaces.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return { workspaces: items.map(workspaceView), nextCursor }
}

export async function getWorkspace({ ctx }: { ctx: Ctx<WorkspaceActor> }) {
  const { workspaces } = ctx.deps.db.t
  const [row] = await ctx.deps.db.orm
    .select()
    .from(workspaces)
    .where(eq(workspaces.id, ctx.actor.workspaceId))
  if (!row) throw notFound('Workspace')
  return workspaceView(row)
}

export async function createKey({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { name: string; expiresInSeconds?: number | undefined }
}) {
  return insertKey(ctx.deps, ctx.actor, ctx.actor.workspaceId, input)
}

/**
 * A new key for an existing workspace, issued by the operator (admin route, or the CLI with
 * database access): the way back in when every key of a workspace is lost. Old keys stay
 * valid; revoke them with the new one.
 */
export async function issueWorkspaceKey({
  deps,
  actor,
  input,
}: {
  deps: Deps
  actor: AdminActor
  input: { workspaceId?: string; workspaceName?: string; name: string; expiresInSeconds?: number | undefined }
}) {
  const { workspaces } = deps.db.t
  const [row] = await deps.db.orm
    .select()
    .from(workspaces)
    .where(
      input.workspaceId !== undefined
        ? eq(workspaces.id, input.workspaceId)
        : eq(workspaces.name, input.workspaceName ?? ''),
    )
  if (!row) throw notFound('Workspace')
  return { workspace: workspaceView(row), ...(await insertKey(deps, actor, row.id, input)) }
}

async function insertKey(
  deps: Deps,
  actor: WorkspaceActor | AdminActor,
  workspaceId: string,
  input: { name: string; expiresInSeconds?: number | undefined },
) {
  const now = deps.clock.now()
  const apiKey = generateSecret('workspace')
  const row = {
    id: newId(),
    workspaceId,
    name: input.name,
    prefix: displayPrefix(apiKey),
    hash: hashSecret(apiKey),
    expiresAt: input.expiresInSeconds ? new Date(now.getTime() + input.expiresInSeconds * 1000) : null,
    lastUsedAt: null,
    createdAt: now,
  }
  await deps.db.tx(async (tx) => {
    await tx.insert(deps.db.t.workspaceKeys).values(row)
    await recordAudit(deps, tx, {
      workspaceId,
      action: 'workspace_key_created',
      actor,
      metadata: {
        keyId: row.id,
        name: row.name,
        prefix: row.prefix,
        expiresAt: row.expiresAt?.toISOString() ?? null,
      },
    })
  })
  return { key: keyView(row), apiKey }
}

export async function listKeys({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { limit: number; cursor?: string }
}) {
  const { workspaceKeys: k } = ctx.deps.db.t
  const after = idCursor.decode(input.cursor)
  const rows = await ctx.deps.db.orm
    .select()
    .from(k)
    .where(
      and(eq(k.workspaceId, ctx.actor.workspaceId), isNull(k.revokedAt), after ? gt(k.id, after) : undefined),
    )
    .orderBy(asc(k.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return { keys: items.map(keyView), nextCursor }
}

/** Revokes a key at once. The last live key of a workspace cannot be revoked: nobody could manage it after. */
export async function revokeKey({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  const { deps, actor } = ctx
  const { workspaceKeys: k } = deps.db.t
  const now = deps.clock.now()
  const revoked = await deps.db.tx(async (tx) => {
    const [row] = await tx
      .select()
      .from(k)
      .where(and(eq(k.id, input.id), eq(k.workspaceId, actor.workspaceId), isNull(k.revokedAt)))
    if (!row) throw notFound('Key')
    const [live] = await tx
      .select({ n: count() })
      .from(k)
      .where(and(eq(k.workspaceId, actor.workspaceId), isNull(k.revokedAt)))
    if ((live?.n ?? 0) <= 1) {
      throw new AppError(
        'conflict',
        'This is the last key of the workspace; create another before revoking it',
      )
    }
    await tx.update(k).set({ revokedAt: now }).where(eq(k.id, row.id))
    // Console sessions act as the key they were opened with: they end with it.
    await endSessionsOfKey(deps, tx, row.id)
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      action: 'workspace_key_revoked',
      actor,
      metadata: { keyId: row.id, name: row.name, prefix: row.prefix },
    })
    return row
  })
  deps.bus.publish('credential.ended', { keyId: revoked.id })
  return { ...keyView(revoked), revokedAt: now.toISOString() }
}

/** First start on an empty database: create workspace `default`. Returns its key, or null if workspaces exist. */
export async function bootstrapDefaultWorkspace(
  deps: Deps,
): Promise<{ workspaceId: string; apiKey: string } | null> {
  const [any] = await deps.db.orm.select({ id: deps.db.t.workspaces.id }).from(deps.db.t.workspaces).limit(1)
  if (any) return null
  try {
    const { workspace, apiKey } = await createWorkspace({
      deps,
      actor: { kind: 'system', workspaceId: '' },
      input: { name: 'default' },
    })
    return { workspaceId: workspace.id, apiKey }
  } catch (e) {
    // Another instance bootstrapped between our check and insert.
    if (e instanceof AppError && e.code === 'conflict') return null
    throw e
  }
}
