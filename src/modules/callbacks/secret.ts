import { and, eq, isNull } from 'drizzle-orm'
import type { Ctx, Deps } from '../../deps'
import { conflict, notFound } from '../../lib/errors'
import { recordAudit } from '../audit/record'
import type { WorkspaceActor } from '../tokens/actor'
import { newWebhookSecret } from './sign'

/** After a rotation the previous secret keeps signing beside the new one this long. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000

/** Both columns hold the same kind of value, so one sealing context (bound to the workspace) serves both. */
const context = (workspaceId: string) => `workspace-webhook-secret:${workspaceId}`

type SecretState = { secret: string; previous: string | null; previousUntil: Date | null }

async function readState(deps: Deps, workspaceId: string): Promise<SecretState | null> {
  const { workspaces: w } = deps.db.t
  const [row] = await deps.db.orm
    .select({ sealed: w.webhookSecret, prev: w.webhookSecretPrev, prevUntil: w.webhookSecretPrevUntil })
    .from(w)
    .where(eq(w.id, workspaceId))
    .limit(1)
  if (!row) throw notFound('Workspace')
  if (!row.sealed) return null
  return {
    secret: deps.sealer.open(row.sealed, context(workspaceId)),
    previous: row.prev ? deps.sealer.open(row.prev, context(workspaceId)) : null,
    previousUntil: row.prevUntil,
  }
}

/**
 * The workspace's signing secret, created and sealed on first use. Two first uses at once
 * (two requests, two instances) agree: only a write that finds the column empty wins.
 */
export async function ensureSecret(deps: Deps, workspaceId: string): Promise<SecretState> {
  const known = await readState(deps, workspaceId)
  if (known) return known
  const { workspaces: w } = deps.db.t
  const secret = newWebhookSecret()
  await deps.db.write(() =>
    deps.db.orm
      .update(w)
      .set({ webhookSecret: deps.sealer.seal(secret, context(workspaceId)) })
      .where(and(eq(w.id, workspaceId), isNull(w.webhookSecret))),
  )
  const state = await readState(deps, workspaceId)
  if (!state) throw new Error('webhook secret vanished after creation')
  return state
}

/** The secrets that sign a callback now: the current one, and the previous one during its overlap. */
export async function signingSecrets(deps: Deps, workspaceId: string): Promise<string[]> {
  const s = await ensureSecret(deps, workspaceId)
  const now = deps.clock.now().getTime()
  return s.previous && s.previousUntil && s.previousUntil.getTime() > now
    ? [s.secret, s.previous]
    : [s.secret]
}

const secretView = (s: SecretState, now: Date) => ({
  secret: s.secret,
  previousSecretValidUntil:
    s.previous && s.previousUntil && s.previousUntil > now ? s.previousUntil.toISOString() : null,
})

export async function getWebhookSecret({ ctx }: { ctx: Ctx<WorkspaceActor> }) {
  return secretView(await ensureSecret(ctx.deps, ctx.actor.workspaceId), ctx.deps.clock.now())
}

/**
 * A new current secret; the old one keeps signing beside it for 24 h so receivers can switch
 * without losing a callback. Rotating again within the overlap drops the oldest.
 */
export async function rotateWebhookSecret({ ctx }: { ctx: Ctx<WorkspaceActor> }) {
  const { deps, actor } = ctx
  const { workspaces: w } = deps.db.t
  const now = deps.clock.now()
  const until = new Date(now.getTime() + ROTATION_OVERLAP_MS)
  const secret = newWebhookSecret()
  const hadOne = await deps.db.tx(async (tx) => {
    const [row] = await tx
      .select({ sealed: w.webhookSecret })
      .from(w)
      .where(eq(w.id, actor.workspaceId))
      .limit(1)
    if (!row) throw notFound('Workspace')
    // Only if nobody rotated in between (the check-and-set keeps two rotations from losing one).
    const updated = await tx
      .update(w)
      .set({
        webhookSecret: deps.sealer.seal(secret, context(actor.workspaceId)),
        webhookSecretPrev: row.sealed,
        webhookSecretPrevUntil: row.sealed ? until : null,
      })
      .where(
        and(
          eq(w.id, actor.workspaceId),
          row.sealed ? eq(w.webhookSecret, row.sealed) : isNull(w.webhookSecret),
        ),
      )
      .returning({ id: w.id })
    if (updated.length === 0) throw conflict('The secret was rotated at the same moment; try again')
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      action: 'webhook_secret_rotated',
      actor,
      metadata: { previousValidUntil: row.sealed ? until.toISOString() : null },
    })
    return row.sealed !== null
  })
  return { secret, previousSecretValidUntil: hadOne ? until.toISOString() : null }
}
