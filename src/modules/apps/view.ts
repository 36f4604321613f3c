import { and, eq } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Deps } from '../../deps'
import { notFound } from '../../lib/errors'
import { liveCallerIds } from '../groups/refs'
import { authView } from './auth'
import type { APP_METHODS } from './model'

type AppMethodName = (typeof APP_METHODS)[number]

export type AppConnectionRow = Row<'appConnections'>

/** A connection of the workspace; another workspace's connection is "not found". */
export async function findAppConnection(
  deps: Pick<Deps, 'db'>,
  workspaceId: string,
  id: string,
  tx: Orm = deps.db.orm,
): Promise<AppConnectionRow> {
  const { appConnections: c } = deps.db.t
  const [row] = await tx
    .select()
    .from(c)
    .where(and(eq(c.id, id.toLowerCase()), eq(c.workspaceId, workspaceId)))
    .limit(1)
  if (!row) throw notFound('App connection')
  return row
}

/** What reads show: never the sealed secret, only its hint. */
function view(row: AppConnectionRow, live: Set<string>) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    baseUrl: row.baseUrl,
    auth: authView(row.auth, row.secretHint),
    secretVersion: row.secretVersion,
    // A deleted agent can never execute again; showing its id would only confuse.
    allowedAgentIds: row.allowedAgentIds?.filter((id) => live.has(id)) ?? null,
    allowedMethods: row.allowedMethods as AppMethodName[] | null,
    allowedPathPrefixes: row.allowedPathPrefixes,
    timeoutMs: row.timeoutMs,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
export type AppConnectionView = ReturnType<typeof view>

/** Views of a page of connections: one query for the agents they allow, whatever the page size. */
export async function appConnectionViews(
  deps: Pick<Deps, 'db'>,
  workspaceId: string,
  rows: AppConnectionRow[],
): Promise<AppConnectionView[]> {
  const live = await liveCallerIds(
    deps,
    workspaceId,
    rows.map((r) => r.allowedAgentIds),
  )
  return rows.map((r) => view(r, live))
}

export async function appConnectionView(deps: Pick<Deps, 'db'>, row: AppConnectionRow) {
  return (await appConnectionViews(deps, row.workspaceId, [row]))[0]!
}
