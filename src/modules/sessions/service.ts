import { and, eq, gt, isNull, lte, or } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Deps } from '../../deps'
import { unauthorized } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { recordAudit } from '../audit/record'
import type { WorkspaceActor } from '../tokens/actor'
import { hashSecret } from '../tokens/format'
import { newSessionValue } from './cookie'

/** How stale `lastSeenAt` may get before a request writes it again (idle expiry is hours). */
const TOUCH_EVERY_MS = 60_000

export type SessionView = {
  workspace: { id: string; name: string }
  keyPrefix: string
  expiresAt: string
  idleSeconds: number
}

/**
 * Signs in with a workspace key: a new session, always (a session id is never carried over
 * a sign-in, so one planted beforehand is worthless), and the one the browser held before,
 * if any, is ended. The value exists only in the cookie; the table keeps its hash.
 */
export async function signIn(
  deps: Deps,
  input: { key: string; previous: string | null },
): Promise<{ value: string; view: SessionView; maxAgeSeconds: number }> {
  const actor = await deps.credentials.resolve(input.key)
  if (actor?.kind !== 'workspace') throw unauthorized('That is not a live workspace key')
  const { consoleSessions: s, workspaceKeys: k, workspaces: w } = deps.db.t
  const now = deps.clock.now()
  const value = newSessionValue()
  const { row, workspace } = await deps.db.tx(async (tx) => {
    const [key] = await tx
      .select({ expiresAt: k.expiresAt, workspaceName: w.name })
      .from(k)
      .innerJoin(w, eq(w.id, k.workspaceId))
      .where(and(eq(k.id, actor.keyId), isNull(k.revokedAt)))
    if (!key) throw unauthorized('That is not a live workspace key')
    const cap = now.getTime() + deps.config.sessions.maxMs
    const row = {
      id: newId(),
      workspaceId: actor.workspaceId,
      keyId: actor.keyId,
      hash: hashSecret(value),
      createdAt: now,
      lastSeenAt: now,
      // A session never outlives the key it was opened with.
      expiresAt: new Date(Math.min(cap, key.expiresAt?.getTime() ?? cap)),
    }
    if (input.previous) await tx.delete(s).where(eq(s.hash, hashSecret(input.previous)))
    await tx.insert(s).values(row)
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      action: 'console_signed_in',
      actor,
      metadata: { sessionId: row.id, keyId: actor.keyId, keyPrefix: actor.keyPrefix },
    })
    return { row, workspace: { id: actor.workspaceId, name: key.workspaceName } }
  })
  deps.activity.touchKey(actor.keyId)
  return {
    value,
    view: viewOf(deps, workspace, actor.keyPrefix, row.expiresAt),
    maxAgeSeconds: (row.expiresAt.getTime() - now.getTime()) / 1000,
  }
}

export type ResolvedSession = { actor: WorkspaceActor; view: SessionView }

/**
 * The workspace actor a session value stands for, or null when it is unknown, idle too
 * long, past its absolute expiry, or its key is revoked or expired. `touch` records the
 * request as activity (an HTTP request does; the live stream's periodic re-check does not,
 * so an open tab alone does not keep a session from idling out).
 */
export async function resolveSession(
  deps: Deps,
  value: string,
  opts: { touch: boolean },
): Promise<ResolvedSession | null> {
  const { consoleSessions: s, workspaceKeys: k, workspaces: w } = deps.db.t
  const now = deps.clock.now()
  const [row] = await deps.db.orm
    .select({
      id: s.id,
      lastSeenAt: s.lastSeenAt,
      expiresAt: s.expiresAt,
      keyId: k.id,
      keyPrefix: k.prefix,
      workspaceId: w.id,
      workspaceName: w.name,
    })
    .from(s)
    .innerJoin(k, eq(k.id, s.keyId))
    .innerJoin(w, eq(w.id, s.workspaceId))
    .where(
      and(
        eq(s.hash, hashSecret(value)),
        gt(s.expiresAt, now),
        gt(s.lastSeenAt, new Date(now.getTime() - deps.config.sessions.idleMs)),
        isNull(k.revokedAt),
        or(isNull(k.expiresAt), gt(k.expiresAt, now)),
      ),
    )
    .limit(1)
  if (!row) return null
  if (opts.touch && now.getTime() - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await deps.db.write(() => deps.db.orm.update(s).set({ lastSeenAt: now }).where(eq(s.id, row.id)))
  }
  return {
    actor: { kind: 'workspace', workspaceId: row.workspaceId, keyId: row.keyId, keyPrefix: row.keyPrefix },
    view: viewOf(deps, { id: row.workspaceId, name: row.workspaceName }, row.keyPrefix, row.expiresAt),
  }
}

/** Ends the session a value stands for (sign-out), by the actor it resolved to. */
export async function signOut(deps: Deps, value: string, actor: WorkspaceActor): Promise<void> {
  const { consoleSessions: s } = deps.db.t
  await deps.db.tx(async (tx) => {
    const [row] = await tx
      .delete(s)
      .where(eq(s.hash, hashSecret(value)))
      .returning()
    if (!row) return
    await recordAudit(deps, tx, {
      workspaceId: row.workspaceId,
      action: 'console_signed_out',
      actor,
      metadata: { sessionId: row.id, keyId: row.keyId },
    })
  })
}

/** Ends every session opened with a key; called in the transaction that revokes it. */
export async function endSessionsOfKey(deps: Pick<Deps, 'db'>, tx: Orm, keyId: string) {
  await tx.delete(deps.db.t.consoleSessions).where(eq(deps.db.t.consoleSessions.keyId, keyId))
}

/** Deletes sessions that can no longer be used (scheduled). */
export async function purgeSessions(deps: Deps) {
  const { consoleSessions: s } = deps.db.t
  const now = deps.clock.now()
  const idleBefore = new Date(now.getTime() - deps.config.sessions.idleMs)
  await deps.db.write(() =>
    deps.db.orm.delete(s).where(or(lte(s.expiresAt, now), lte(s.lastSeenAt, idleBefore))),
  )
}

function viewOf(
  deps: Deps,
  workspace: { id: string; name: string },
  keyPrefix: string,
  expiresAt: Date,
): SessionView {
  return {
    workspace,
    keyPrefix,
    expiresAt: expiresAt.toISOString(),
    idleSeconds: deps.config.sessions.idleMs / 1000,
  }
}
