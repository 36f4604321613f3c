import { and, asc, count, eq, gt } from 'drizzle-orm'
import type { Orm } from '../../db'
import { isUniqueViolation } from '../../db/errors'
import type { AppAuthConfig } from '../../db/schema/types'
import type { Ctx, Deps } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { conflict, invalid, quotaExceeded } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { refuseGuardedUrls } from '../../lib/outbound/fields'
import { recordAudit } from '../audit/record'
import { resolveAgents } from '../groups/refs'
import type { WorkspaceActor } from '../tokens/actor'
import { secretContext, secretHint, splitAuth } from './auth'
import type {
  AppAuthInputValue,
  AppAuthPatchValue,
  CreateAppConnectionInput,
  UpdateAppConnectionInput,
} from './model'
import { checkPathPrefix } from './rules'
import { type AppConnectionRow, appConnectionView, appConnectionViews, findAppConnection } from './view'

/** Path prefixes are judged by the same rules as a call's path: a prefix no call could match is refused. */
function checkPrefixes(prefixes: readonly string[] | null | undefined) {
  for (const [i, prefix] of (prefixes ?? []).entries()) {
    const refused = checkPathPrefix(prefix)
    if (refused)
      throw invalid(`allowedPathPrefixes[${i}] is refused: ${refused.message}`, {
        field: `allowedPathPrefixes.${i}`,
        rule: refused.rule,
      })
  }
}

/** The URLs a connection will call, for the outbound guard at save time. */
function guardedUrls(baseUrl: string | undefined, auth: AppAuthInputValue | AppAuthPatchValue | undefined) {
  const urls: [string, string][] = []
  if (baseUrl) urls.push(['baseUrl', baseUrl])
  if (auth?.type === 'oauth2_client_credentials') urls.push(['auth.tokenUrl', auth.tokenUrl])
  return urls
}

const dedupe = <T>(list: readonly T[] | null | undefined) => (list ? [...new Set(list)] : list)
const uniqueName = (e: unknown) => {
  if (isUniqueViolation(e)) throw conflict('An app connection with this name already exists in the workspace')
  throw e
}

async function assertRoom(deps: Deps, tx: Orm, workspaceId: string) {
  const { appConnections: c } = deps.db.t
  const max = deps.config.apps.perWorkspace
  const [row] = await tx.select({ n: count() }).from(c).where(eq(c.workspaceId, workspaceId))
  if (Number(row?.n ?? 0) >= max)
    throw quotaExceeded(`${max} app connections`, max, 'SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE')
}

const allowedAgents = async (deps: Deps, tx: Orm, workspaceId: string, refs: string[] | null) =>
  refs ? (await resolveAgents(deps, tx, workspaceId, refs)).map((a) => a.id) : null

export async function createAppConnection({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: CreateAppConnectionInput
}) {
  const { deps, actor } = ctx
  checkPrefixes(input.allowedPathPrefixes)
  await refuseGuardedUrls(deps.outbound, guardedUrls(input.baseUrl, input.auth))
  const id = newId()
  const now = deps.clock.now()
  const { config, secret } = splitAuth(input.auth)
  const row = await deps.db
    .tx(async (tx) => {
      await assertRoom(deps, tx, actor.workspaceId)
      const row: AppConnectionRow = {
        id,
        workspaceId: actor.workspaceId,
        name: input.name,
        description: input.description ?? null,
        baseUrl: input.baseUrl,
        auth: config,
        secret: deps.sealer.seal(secret!, secretContext(id)),
        secretHint: secretHint(secret!),
        secretVersion: 1,
        allowedAgentIds: await allowedAgents(deps, tx, actor.workspaceId, input.allowedAgentIds ?? null),
        allowedMethods: dedupe(input.allowedMethods) ?? null,
        allowedPathPrefixes: dedupe(input.allowedPathPrefixes) ?? null,
        timeoutMs: input.timeoutMs ?? null,
        createdAt: now,
        updatedAt: now,
      }
      await tx.insert(deps.db.t.appConnections).values(row)
      await recordAudit(deps, tx, {
        workspaceId: actor.workspaceId,
        action: 'app_connection_created',
        actor,
        metadata: {
          connectionId: id,
          name: row.name,
          baseUrl: row.baseUrl,
          authType: config.type,
          secretHint: row.secretHint,
        },
      })
      return row
    })
    .catch(uniqueName)
  return appConnectionView(deps, row)
}

export async function listAppConnections({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { appConnections: c } = deps.db.t
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(c)
    .where(and(eq(c.workspaceId, actor.workspaceId), after ? gt(c.id, after) : undefined))
    .orderBy(asc(c.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return { appConnections: await appConnectionViews(deps, actor.workspaceId, items), nextCursor }
}

export async function getAppConnection({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  return appConnectionView(ctx.deps, await findAppConnection(ctx.deps, ctx.actor.workspaceId, input.id))
}

const origin = (url: string) => new URL(url).origin
const tokenOrigin = (auth: AppAuthConfig) =>
  auth.type === 'oauth2_client_credentials' ? origin(auth.tokenUrl) : null

/**
 * The secret follows its host: a change that would send the stored secret (or a token got
 * with it) to another origin — the base URL's, or the token endpoint's — needs the secret
 * again in the same request. Otherwise whoever holds the workspace key could read a
 * write-only secret by pointing the connection at a server of their own.
 */
function assertSecretStaysHome(
  current: AppConnectionRow,
  baseUrl: string,
  auth: AppAuthConfig,
  resent: boolean,
) {
  if (resent) return
  if (origin(baseUrl) !== origin(current.baseUrl))
    throw invalid('Moving baseUrl to another origin needs the secret again: send auth with its secret', {
      field: 'auth',
    })
  if (tokenOrigin(auth) !== tokenOrigin(current.auth))
    throw invalid('Moving the token endpoint to another origin needs the client secret again', {
      field: 'auth.clientSecret',
    })
}

const PLAIN_FIELDS = [
  'name',
  'description',
  'baseUrl',
  'allowedMethods',
  'allowedPathPrefixes',
  'timeoutMs',
] as const

export async function updateAppConnection({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string } & UpdateAppConnectionInput
}) {
  const { deps, actor } = ctx
  const { id: ref, ...patch } = input
  checkPrefixes(patch.allowedPathPrefixes)
  await refuseGuardedUrls(deps.outbound, guardedUrls(patch.baseUrl, patch.auth))
  const { appConnections: c } = deps.db.t
  const row = await deps.db
    .tx(async (tx) => {
      const current = await findAppConnection(deps, actor.workspaceId, ref, tx)
      const set: Partial<AppConnectionRow> = { updatedAt: deps.clock.now() }
      const changed: string[] = []
      for (const f of PLAIN_FIELDS) {
        if (patch[f] === undefined) continue
        ;(set as Record<string, unknown>)[f] =
          f === 'allowedMethods' || f === 'allowedPathPrefixes' ? dedupe(patch[f]) : patch[f]
        changed.push(f)
      }
      if (patch.allowedAgentIds !== undefined) {
        set.allowedAgentIds = await allowedAgents(deps, tx, actor.workspaceId, patch.allowedAgentIds)
        changed.push('allowedAgentIds')
      }
      const split = patch.auth ? splitAuth(patch.auth) : null
      if (split && split.secret === undefined && split.config.type !== current.auth.type)
        throw invalid(`Changing the auth type to ${split.config.type} needs its secret`, { field: 'auth' })
      const auth = split?.config ?? current.auth
      assertSecretStaysHome(current, set.baseUrl ?? current.baseUrl, auth, split?.secret !== undefined)
      if (split) {
        if (split.secret !== undefined) {
          set.secret = deps.sealer.seal(split.secret, secretContext(current.id))
          set.secretHint = secretHint(split.secret)
        }
        set.auth = auth
        // Any change of auth makes every token got with the old one useless: a new version.
        if (split.secret !== undefined || JSON.stringify(auth) !== JSON.stringify(current.auth)) {
          set.secretVersion = current.secretVersion + 1
          changed.push('auth')
        }
      }
      const [updated] = await tx.update(c).set(set).where(eq(c.id, current.id)).returning()
      if (changed.length > 0)
        await recordAudit(deps, tx, {
          workspaceId: actor.workspaceId,
          action: 'app_connection_updated',
          actor,
          metadata: { connectionId: current.id, fields: changed },
        })
      if (split?.secret !== undefined)
        await recordAudit(deps, tx, {
          workspaceId: actor.workspaceId,
          action: 'app_connection_secret_changed',
          actor,
          metadata: {
            connectionId: current.id,
            authType: auth.type,
            secretHint: updated!.secretHint,
            secretVersion: updated!.secretVersion,
          },
        })
      return updated!
    })
    .catch(uniqueName)
  deps.appTokens.forget(row.id)
  return appConnectionView(deps, row)
}

export async function deleteAppConnection({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string }
}) {
  const { deps, actor } = ctx
  const { appConnections: c } = deps.db.t
  const row = await deps.db.tx(async (tx) => {
    const row = await findAppConnection(deps, actor.workspaceId, input.id, tx)
    await tx.delete(c).where(eq(c.id, row.id))
    await recordAudit(deps, tx, {
      workspaceId: actor.workspaceId,
      action: 'app_connection_deleted',
      actor,
      metadata: { connectionId: row.id, name: row.name },
    })
    return row
  })
  deps.appTokens.forget(row.id)
  return { id: row.id, deleted: true as const }
}
