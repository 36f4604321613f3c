import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Database, Orm } from '../../db'
import type { Deps } from '../../deps'
import { newId } from '../../lib/ids'
import { type SignalledRow, settleRows, signalColumns } from '../presence/service'
import type { CheckResult } from './check'

type Recorded = { agentId: string; at: Date; result: CheckResult; trim: boolean }

type Statements = {
  insert(tx: Orm, p: Record<string, unknown>): Promise<unknown>
  passed(tx: Orm, p: Record<string, unknown>): Promise<SignalledRow[]>
  failed(tx: Orm, p: Record<string, unknown>): Promise<SignalledRow[]>
}
const statements = new WeakMap<Database, Statements>()

/**
 * The three statements every check runs, built once per database (on SQLite; see
 * `preparedTx`): building them cost more CPU than running them — 45 % of a 10,000-agent
 * sweep went to drizzle assembling the same SQL again (`npm run bench:ws`).
 */
function statementsFor(deps: Deps): Statements {
  let s = statements.get(deps.db)
  if (s) return s
  const { healthChecks: h, agents: a } = deps.db.t
  const p = (name: string) => sql.placeholder(name) as never
  const signal = (passed: boolean) =>
    deps.db.preparedTx(passed ? 'health_signal_passed' : 'health_signal_failed', (orm) =>
      orm
        .update(a)
        .set({
          lastHealthCheckAt: p('at'),
          lastHealthCheckOk: p('ok'),
          lastHealthCheckStatus: p('status'),
          lastHealthCheckLatencyMs: p('latency'),
          lastHealthCheckError: p('error'),
          ...(passed ? { lastHealthOkAt: p('at') } : {}),
        })
        .where(eq(a.id, sql.placeholder('agentId')))
        .returning({
          id: a.id,
          workspaceId: a.workspaceId,
          permanentId: a.permanentId,
          presence: a.presence,
          ...signalColumns(deps),
        }),
    )
  s = {
    insert: deps.db.preparedTx('health_check_insert', (orm) =>
      orm.insert(h).values({
        id: p('id'),
        agentId: p('agentId'),
        at: p('at'),
        ok: p('ok'),
        httpStatus: p('status'),
        latencyMs: p('latency'),
        error: p('error'),
      }),
    ),
    passed: signal(true),
    failed: signal(false),
  } as Statements
  statements.set(deps.db, s)
  return s
}

/**
 * Records checks: for each, the history row, the history trimmed to its bound when `trim`
 * says so, and the agent's last-check columns as a presence signal; then presence re-decided
 * for all of them at once (`settleRows`: the one `agent.status_changed` event per agent whose
 * presence changes). One transaction, so they agree. An agent deleted since the sweep read
 * it fails its insert on the foreign key, and the group is retried one by one (ResultWriter).
 */
async function recordGroup(deps: Deps, group: readonly Recorded[]): Promise<void> {
  const q = statementsFor(deps)
  await deps.db.tx(async (tx) => {
    // By agent: one sweep checks an agent once, but if two checks of one agent ever share a
    // group, the row read after the later one decides (it holds both signals).
    const rows = new Map<string, SignalledRow>()
    for (const r of group) {
      const values = {
        agentId: r.agentId,
        at: r.at,
        ok: r.result.ok,
        status: r.result.httpStatus,
        latency: r.result.latencyMs,
        error: r.result.error,
      }
      await q.insert(tx, { id: newId(), ...values })
      if (r.trim) await trimHistory(deps, tx, r.agentId)
      const [row] = await (r.result.ok ? q.passed : q.failed)(tx, values)
      if (row) {
        rows.delete(row.id)
        rows.set(row.id, row)
      }
    }
    await settleRows(deps, tx, [...rows.values()])
  })
}

/** Keeps an agent's newest `healthHistory` checks (deleting at most 1,000 older ones at a time). */
async function trimHistory(deps: Deps, tx: Orm, agentId: string) {
  const { healthChecks: h } = deps.db.t
  const surplus = await tx
    .select({ id: h.id })
    .from(h)
    .where(eq(h.agentId, agentId))
    .orderBy(desc(h.at), desc(h.id))
    .limit(1000)
    .offset(deps.config.healthHistory)
  if (surplus.length > 0)
    await tx.delete(h).where(
      and(
        eq(h.agentId, agentId),
        inArray(
          h.id,
          surplus.map((s) => s.id),
        ),
      ),
    )
}

/**
 * How many sweeps apart an agent's history is trimmed: finding the surplus reads past the
 * `healthHistory` newest checks (0.85 ms with the default 1,440, which every check paid, so
 * a 10,000-agent sweep spent 8.5 s of CPU trimming once the histories were full). Trimmed
 * every `healthHistory / 16` sweeps instead, a history holds at most 1/16 more checks
 * between trims, and every one of them when the bound is small (16 or fewer: each sweep).
 */
export const trimEvery = (history: number) => Math.max(1, Math.floor(history / 16))

/** Whether this sweep trims the agent's history: each agent on its own sweep of every `trimEvery`. */
export function trimsNow(agentId: string, round: number, every: number) {
  if (every <= 1) return true
  let h = 0x811c9dc5
  for (let i = 0; i < agentId.length; i++) h = Math.imul(h ^ agentId.charCodeAt(i), 0x01000193)
  return ((h >>> 0) + round) % every === 0
}

/**
 * On SQLite results are written in groups: a check's result waits up to FLUSH_MS for others,
 * and the group commits as one transaction. Spread over the interval, checks finish one by
 * one, and committing each alone would cost a commit per agent per minute (on SQLite the
 * cost of a write is its commit). A group that fails (an agent deleted meanwhile) is retried
 * one by one. On Postgres each result is its own transaction: the pool runs them side by
 * side, and a group would hold the events lock (see appendEvent) for all of its writes.
 */
const FLUSH_MS = 100
const MAX_GROUP = 128

type Pending = { item: Recorded; resolve: () => void; reject: (e: unknown) => void }

class ResultWriter {
  private queue: Pending[] = []
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor(private readonly deps: Deps) {}

  submit(item: Recorded): Promise<void> {
    if (this.deps.db.dialect !== 'sqlite') return recordGroup(this.deps, [item])
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      if (this.queue.length >= MAX_GROUP) this.flush()
      else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS)
    })
  }

  private flush() {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const group = this.queue.splice(0, MAX_GROUP)
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), 0)
    if (group.length === 0) return
    recordGroup(
      this.deps,
      group.map((p) => p.item),
    ).then(
      () => {
        for (const p of group) p.resolve()
      },
      () => {
        for (const p of group) recordGroup(this.deps, [p.item]).then(p.resolve, p.reject)
      },
    )
  }
}

const writers = new WeakMap<Database, ResultWriter>()

/** Records a check's result (soon, with others). Resolves once it is committed. */
export function recordCheck(
  deps: Deps,
  agentId: string,
  result: CheckResult,
  o: { trim?: boolean } = {},
): Promise<void> {
  let writer = writers.get(deps.db)
  if (!writer) {
    writer = new ResultWriter(deps)
    writers.set(deps.db, writer)
  }
  return writer.submit({ agentId, at: deps.clock.now(), result, trim: o.trim ?? true })
}
