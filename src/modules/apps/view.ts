import { and, eq, sql } from 'drizzle-orm'
import type { Database, Orm } from '../../db'
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

/** The execute path's lookup, built once per database (drizzle's query building costs more than the query). */
const lookups = new WeakMap<
  Database,
  (p: { id: string; workspaceId: string }) => Promise<AppConnectionRow[]>
>()

/** The connection an execute names, or null: no query building on the hot path. */
export async function appConnectionForCall(deps: Pick<Deps, 'db'>, workspaceId: string, id: string) {
  let lookup = lookups.get(deps.db)
  if (!lookup) {
    const c = deps.db.t.appConnections
    lookup = deps.db.prepared('app_connection_for_call', (orm) =>
      orm
        .select()
        .from(c)
        .where(and(eq(c.id, sql.placeholder('id')), eq(c.workspaceId, sql.placeholder('workspaceId'))))
        .limit(1),
    ) as (p: { id: string; workspaceId: string }) => Promise<AppConnectionRow[]>
    lookups.set(deps.db, lookup)
  }
  const [row] = await lookup({ id: id.toLowerCase(), workspaceId })
  return row ?? null
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
