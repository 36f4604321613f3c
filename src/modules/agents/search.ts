import { getTableName, gt, lte, type SQL, sql } from 'drizzle-orm'
import type { Database, Orm } from '../../db'
import type { Tables } from '../../db/schema'

/**
 * `q` of the agent list: a case-insensitive substring of the name or the description, LIKE's
 * `%` and `_` taken literally. `definedMatch` alone decides what matches, on both dialects;
 * the indexes of ADR 0016 only narrow the rows it is asked of.
 */
export function definedMatch(a: Tables['agents'], q: string): SQL {
  const p = likePattern(q)
  return sql`(lower(${a.name}) like ${p} escape '\\' or lower(coalesce(${a.description}, '')) like ${p} escape '\\')`
}

/**
 * `definedMatch` as the list runs it. Postgres stores both texts folded (migration 0009:
 * generated columns of the same `lower()`) and has its trigram indexes on them, so checking a
 * candidate is a LIKE alone, not a `lower()` of each text first.
 */
export function textMatch(a: Tables['agents'], q: string, dialect: Database['dialect']): SQL {
  if (dialect === 'sqlite') return definedMatch(a, q)
  const p = likePattern(q)
  const t = sql.identifier(getTableName(a))
  return sql`(${t}."name_folded" like ${p} escape '\\' or ${t}."description_folded" like ${p} escape '\\')`
}

const likePattern = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/**
 * How far, in agents, the id-order read goes before the rest of the page is looked up in the
 * index: about 0.5 µs an agent read, against about 1 µs a candidate looked up.
 */
export const SCAN_AHEAD = 2000

/**
 * How many agents, in id order, one page of a q no index can serve (fewer than 3 characters)
 * reads at most. A short q that few agents match read the whole workspace: 64 ms on SQLite and
 * 105 ms on Postgres at 100,000 agents (p99, `npm run bench:scale`). Past this many agents the
 * page ends with what it found and a `nextCursor` from the last agent read, as a page cut by
 * its byte budget does: following `nextCursor` until it is null gives every match.
 * An object so a test can make it small.
 */
export const shortScan = { agents: 5_000 }

/**
 * The list query from the cursor on, with `extra` conditions, at most `n` rows, in id order;
 * on `orm` when given (a transaction), else on the pool.
 */
type Select<R> = (extra: SQL[], n: number, orm?: Orm) => Promise<R[]>
type Search = { workspaceId: string; q: string; after: string | undefined }
/** `readTo`: the page read the workspace only up to this agent id; the next one starts after it. */
export type Found<R> = { rows: R[]; readTo: string | null }

/**
 * The first `n` agents after `after` that `textMatch` accepts (it is in `select`'s conditions).
 * Read in id order as without an index, but over SCAN_AHEAD agents at most: a q that many
 * agents match fills the page there, as fast as before. The rest of a page, past those agents,
 * comes from the FTS5 table of migration 0008 on SQLite, and on Postgres from the pg_trgm
 * indexes, read as bitmaps (ADR 0016). A q of fewer than
 * 3 characters is beyond a trigram index: it is read in id order over `shortScan.agents` at
 * most, and a page that did not fill there says where it stopped (`readTo`).
 */
export async function searchRows<R>(
  deps: { db: Database },
  s: Search,
  n: number,
  select: Select<R>,
): Promise<Found<R>> {
  const { db } = deps
  const phrase = trigramPhrase(s.q)
  const bound = await idAhead(db, s, phrase === null ? shortScan.agents : SCAN_AHEAD)
  if (!bound) return { rows: await select([], n), readTo: null }
  const near = await select([lte(db.t.agents.id, bound)], n)
  if (near.length === n) return { rows: near, readTo: null }
  // No index serves a short q: the page ends where the stretch did.
  if (phrase === null) return { rows: near, readTo: bound }
  if (db.dialect !== 'sqlite') {
    // Past `bound`, Postgres read in id order to the end of the workspace when the matches
    // clustered elsewhere (67–73 ms p99 on a deep page): it expects them spread evenly. With
    // plain index scans off for this one read it takes the pg_trgm bitmaps, whose cost is the
    // number of matches, and sorts those (bun bench/search.ts; ADR 0016).
    const rest = await db.tx(async (tx) => {
      await db.execute(sql`set local enable_indexscan = off`, tx)
      return select([gt(db.t.agents.id, bound)], n - near.length, tx)
    })
    return { rows: [...near, ...rest], readTo: null }
  }
  const far = await candidates(db, s.workspaceId, phrase, bound)
  const rows =
    far.length === 0 ? near : [...near, ...(await select([among(db.t.agents, far)], n - near.length))]
  return { rows, readTo: null }
}

/** The id of the workspace's `count`-th agent after `after`, in id order; null when there are fewer. */
async function idAhead(db: Database, s: Search, count: number): Promise<string | null> {
  const a = db.t.agents
  const [row] = await db.execute(sql`
    select ${a.id} as id from ${a} where ${a.workspaceId} = ${s.workspaceId}
    ${s.after ? sql`and ${a.id} > ${s.after}` : sql``}
    order by ${a.id} limit 1 offset ${sql.raw(String(Math.max(0, Math.floor(count) - 1)))}`)
  return row ? String(row.id) : null
}

/**
 * An FTS5 phrase for q: the trigram tokenizer folds case on both sides, and a phrase of
 * trigrams is a substring, so the rows it finds hold every agent `textMatch` accepts. Null for
 * fewer than 3 characters (as the tokenizer counts them, not UTF-16 units) and for a NUL, which
 * would end the query string early.
 */
function trigramPhrase(q: string): string | null {
  const needle = q.toLowerCase()
  if ([...needle].length < 3 || needle.includes('\0')) return null
  return `"${needle.replaceAll('"', '""')}"`
}

/** The workspace's agent ids past `after` among the FTS5 rows of the phrase, in no order. */
async function candidates(db: Database, workspaceId: string, phrase: string, after: string) {
  const rows = await db.execute(sql`
    select k.agent_id as id from agent_search f join agent_search_keys k on k.id = f.rowid
    where f.agent_search match ${phrase} and k.workspace_id = ${workspaceId} and k.agent_id > ${after}`)
  return rows.map((r) => String(r.id))
}

/** `id` among the candidates: one JSON parameter where an IN list would bind thousands. */
const among = (a: Tables['agents'], ids: string[]): SQL =>
  sql`${a.id} in (select value from json_each(${JSON.stringify(ids)}))`
