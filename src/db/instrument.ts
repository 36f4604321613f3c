import type { Database as BunSqlite } from 'bun:sqlite'
import type postgres from 'postgres'

/**
 * What the database port counts for `/metrics`: statements in flight and how long each took.
 * `observe` is null until the metrics are registered (and in tools that never register them).
 */
export class QueryStats {
  /** Statements sent and not yet answered, outside transactions (Postgres; SQLite runs them synchronously). */
  inFlight = 0
  observe: ((seconds: number) => void) | null = null
}

type Statement = ReturnType<BunSqlite['query']>
const TIMED = ['all', 'get', 'run', 'values'] as const

/** drizzle ends a select with ` limit ?` or ` limit ? offset ?`; so does our own SQL. */
const LIMIT_TAIL = / limit \?( offset \?)?$/i
/** Literal forms kept per statement (page sizes and offsets in use); past this, the bound form. */
export const LITERAL_VARIANTS = 32

/**
 * bun:sqlite's statements, cached by SQL text (bun's `query()`), each wrapped once so its
 * runs are timed. drizzle prepares a statement on every execution; bun's cache and this map
 * make that a lookup. The wrapper has what drizzle calls (all, get, run, values) and nothing else.
 *
 * A bound LIMIT or OFFSET is run as a literal: SQLite's planner reads a bound limit's value,
 * which marks the statement to be compiled again whenever that parameter is bound, and
 * bun:sqlite binds afresh on every run — so `limit ?` recompiled the statement on every
 * execution (5–25 µs, most of `GET /api/agents/me`; docs/adr/0017-sqlite-literal-limits.md).
 * Only non-negative safe integers are inlined, so the text can hold nothing but digits.
 */
export function timedSqliteStatements(client: BunSqlite, stats: QueryStats) {
  const wrapped = new WeakMap<Statement, Statement>()
  const timed = (st: Statement, name: (typeof TIMED)[number]) => {
    const run = (st[name] as (...a: unknown[]) => unknown).bind(st)
    return (...args: unknown[]) => {
      const observe = stats.observe
      if (!observe) return run(...args)
      const started = performance.now()
      try {
        return run(...args)
      } finally {
        observe((performance.now() - started) / 1000)
      }
    }
  }
  type Runs = Record<(typeof TIMED)[number], (...a: unknown[]) => unknown>
  const timedAll = (st: Statement) => Object.fromEntries(TIMED.map((name) => [name, timed(st, name)])) as Runs
  return (sql: string): Statement => {
    const st = client.query(sql)
    let w = wrapped.get(st) as Runs | undefined
    if (w) return w as unknown as Statement
    const bound = timedAll(st)
    const tail = LIMIT_TAIL.exec(sql)
    if (!tail) w = bound
    else {
      const head = sql.slice(0, tail.index)
      const n = tail[1] ? 2 : 1
      const variants = new Map<string, Runs>()
      const literal = (args: unknown[]) => {
        if (args.length < n) return null
        const limit = args[args.length - n]
        const offset = n === 2 ? args[args.length - 1] : 0
        if (!isCount(limit) || !isCount(offset)) return null
        const key = `${limit} ${offset}`
        let v = variants.get(key)
        if (!v) {
          if (variants.size >= LITERAL_VARIANTS) return null
          v = timedAll(client.query(`${head} limit ${limit}${n === 2 ? ` offset ${offset}` : ''}`))
          variants.set(key, v)
        }
        return v
      }
      const runs = {} as Runs
      for (const name of TIMED)
        runs[name] = (...args: unknown[]) => {
          const v = literal(args)
          return v ? v[name](...args.slice(0, args.length - n)) : bound[name](...args)
        }
      w = runs
    }
    wrapped.set(st, w as unknown as Statement)
    return w as unknown as Statement
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

type Sql = postgres.Sql
type Query = { resolve: (v: unknown) => void; reject: (e: unknown) => void }

/**
 * A postgres-js client whose queries are counted while in flight and timed: `unsafe` (what
 * drizzle sends every statement through) on the pool and inside every transaction. postgres-js
 * keeps its own pool state private, so in-use connections are derived from these counts.
 */
export function timedPostgres(client: Sql, stats: QueryStats, inTransaction = false): Sql {
  const unsafe = client.unsafe.bind(client)
  client.unsafe = ((...args: Parameters<Sql['unsafe']>) => {
    const q = unsafe(...args) as unknown as Query
    const started = performance.now()
    if (!inTransaction) stats.inFlight++
    const { resolve, reject } = q
    const done = () => {
      if (!inTransaction) stats.inFlight--
      stats.observe?.((performance.now() - started) / 1000)
    }
    q.resolve = (v) => {
      done()
      resolve(v)
    }
    q.reject = (e) => {
      done()
      reject(e)
    }
    return q
  }) as unknown as Sql['unsafe']
  if (!inTransaction) {
    const begin = client.begin.bind(client) as (...a: unknown[]) => Promise<unknown>
    client.begin = ((...args: unknown[]) => {
      const fn = args.at(-1) as (tx: Sql) => unknown
      args[args.length - 1] = (tx: Sql) => fn(timedPostgres(tx, stats, true))
      return begin(...args)
    }) as Sql['begin']
  }
  return client
}
