import { and, desc, eq, inArray } from 'drizzle-orm'
import type { Database } from '../../db'
import type { Deps } from '../../deps'
import { newId } from '../../lib/ids'
import type { AgentRow } from '../agents/lookup'
import { applySignal } from '../presence/service'
import type { CheckResult } from './check'

type Recorded = { agentId: string; at: Date; result: CheckResult }

/**
 * Records a check: the history row, the history trimmed to its bound, and the agent's
 * last-check columns as a presence signal (which decides presence and, when it changes,
 * appends the one `agent.status_changed` event). One transaction, so the three agree.
 */
async function recordOne(deps: Deps, r: Recorded): Promise<void> {
  const { healthChecks: h } = deps.db.t
  await deps.db.tx(async (tx) => {
    await tx.insert(h).values({
      id: newId(),
      agentId: r.agentId,
      at: r.at,
      ok: r.result.ok,
      httpStatus: r.result.httpStatus,
      latencyMs: r.result.latencyMs,
      error: r.result.error,
    })
    const surplus = await tx
      .select({ id: h.id })
      .from(h)
      .where(eq(h.agentId, r.agentId))
      .orderBy(desc(h.at), desc(h.id))
      .limit(1000)
      .offset(deps.config.healthHistory)
    if (surplus.length > 0)
      await tx.delete(h).where(
        and(
          eq(h.agentId, r.agentId),
          inArray(
            h.id,
            surplus.map((s) => s.id),
          ),
        ),
      )
    const signal: Partial<AgentRow> = {
      lastHealthCheckAt: r.at,
      lastHealthCheckOk: r.result.ok,
      lastHealthCheckStatus: r.result.httpStatus,
      lastHealthCheckLatencyMs: r.result.latencyMs,
      lastHealthCheckError: r.result.error,
    }
    if (r.result.ok) signal.lastHealthOkAt = r.at
    await applySignal(deps, tx, r.agentId, signal)
  })
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
    if (this.deps.db.dialect !== 'sqlite') return this.deps.db.tx(() => recordOne(this.deps, item))
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
    this.deps.db
      .tx(async () => {
        for (const p of group) await recordOne(this.deps, p.item)
      })
      .then(
        () => {
          for (const p of group) p.resolve()
        },
        () => {
          for (const p of group) this.deps.db.tx(() => recordOne(this.deps, p.item)).then(p.resolve, p.reject)
        },
      )
  }
}

const writers = new WeakMap<Database, ResultWriter>()

/** Records a check's result (soon, with others). Resolves once it is committed. */
export function recordCheck(deps: Deps, agentId: string, result: CheckResult): Promise<void> {
  let writer = writers.get(deps.db)
  if (!writer) {
    writer = new ResultWriter(deps)
    writers.set(deps.db, writer)
  }
  return writer.submit({ agentId, at: deps.clock.now(), result })
}
