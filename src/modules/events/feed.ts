import { and, asc, eq, gt, lte, max, or, sql } from 'drizzle-orm'
import type { Database } from '../../db'
import type { JsonValue, Row } from '../../db/schema'
import type { Deps } from '../../deps'

/** An event as read: its row, and the stored-once payload it refers to (null once that expired). */
export type EventRow = Row<'events'> & { payload: JsonValue | null }

/**
 * What a reader may see: a workspace's events, or those of its workspace concerning one agent
 * (as subject or peer). An event that concerns two workspaces is written in each of them.
 */
export type EventScope = { workspaceId: string; agentId?: string }

/** The reads a live reader makes, built once per database (they run on every wake-up). */
const statements = new WeakMap<Database, ReturnType<typeof build>>()
function build(db: Database) {
  const { events: e, payloads: p } = db.t
  const range = () => and(gt(e.id, sql.placeholder('after')), lte(e.id, sql.placeholder('upTo')))
  const limit = sql.placeholder('limit')
  const fields = {
    id: e.id,
    workspaceId: e.workspaceId,
    type: e.type,
    agentId: e.agentId,
    peerAgentId: e.peerAgentId,
    data: e.data,
    payloadId: e.payloadId,
    createdAt: e.createdAt,
    payload: p.payload,
  }
  return {
    all: db.prepared('events_after', (orm) =>
      orm
        .select(fields)
        .from(e)
        .leftJoin(p, eq(p.id, e.payloadId))
        .where(range())
        .orderBy(asc(e.id))
        .limit(limit),
    ),
    workspace: db.prepared('events_after_ws', (orm) =>
      orm
        .select(fields)
        .from(e)
        .leftJoin(p, eq(p.id, e.payloadId))
        .where(and(eq(e.workspaceId, sql.placeholder('scope')), range()))
        .orderBy(asc(e.id))
        .limit(limit),
    ),
    agent: db.prepared('events_after_agent', (orm) =>
      orm
        .select(fields)
        .from(e)
        .leftJoin(p, eq(p.id, e.payloadId))
        .where(
          and(
            eq(e.workspaceId, sql.placeholder('workspace')),
            or(eq(e.agentId, sql.placeholder('scope')), eq(e.peerAgentId, sql.placeholder('scope'))),
            range(),
          ),
        )
        .orderBy(asc(e.id))
        .limit(limit),
    ),
  }
}
function queries(db: Database) {
  let q = statements.get(db)
  if (!q) {
    q = build(db)
    statements.set(db, q)
  }
  return q
}

/** Every event with `after < id <= upTo`, oldest first, at most `limit`. */
export async function readEvents(
  deps: Pick<Deps, 'db'>,
  after: number,
  upTo: number,
  limit: number,
): Promise<EventRow[]> {
  return (await queries(deps.db).all({ after, upTo, limit })) as EventRow[]
}

/** As `readEvents`, only what `scope` may see. */
export async function readVisibleEvents(
  deps: Pick<Deps, 'db'>,
  scope: EventScope,
  after: number,
  upTo: number,
  limit: number,
): Promise<EventRow[]> {
  const q = queries(deps.db)
  const rows =
    scope.agentId === undefined
      ? await q.workspace({ scope: scope.workspaceId, after, upTo, limit })
      : await q.agent({ workspace: scope.workspaceId, scope: scope.agentId, after, upTo, limit })
  return rows as EventRow[]
}

/**
 * The highest event id whose transaction has committed. On SQLite a read may see another
 * request's uncommitted rows (one connection), so it is read under the writer's lock,
 * where no transaction is open. On Postgres events commit in id order (appendEvent's lock),
 * so the highest visible id has everything below it committed too.
 */
export async function latestEventId(deps: Pick<Deps, 'db'>): Promise<number> {
  const e = deps.db.t.events
  const read = async () => (await deps.db.orm.select({ id: max(e.id) }).from(e))[0]?.id ?? 0
  return Number((deps.db.dialect === 'sqlite' ? await deps.db.write(read) : await read()) ?? 0)
}
