import { eq, sql } from 'drizzle-orm'
import type { Database } from '../../db'
import { WriteBatcher } from '../../db/batch'
import type { Presence } from '../../db/schema/types'
import { restore, writeTimes } from '../../db/touch'
import type { Logger } from '../../lib/log'
import type { EventBus } from '../events/bus'

type Known = { status: Presence; presence: Presence }
export type HeartbeatRow = {
  id: string
  permanentId: string
  presence: Presence
  reportedStatus: Presence | null
  lastHeartbeatAt: Date | null
  socketSeenAt: Date | null
  lastHealthOkAt: Date | null
  lastHealthCheckAt: Date | null
}

/**
 * Heartbeats are the hottest write, and most of them change nothing but a timestamp.
 * - A heartbeat whose status is what the agent last reported, while its presence already
 *   follows that report, only moves `lastHeartbeatAt`: it is kept in memory and written
 *   with the others once a second (`flushMs`), so an agent calling in a loop costs one
 *   write per second, not one per call.
 * - Any other heartbeat is written at once by one prepared UPDATE, group-committed with the
 *   heartbeats that arrive beside it (`WriteBatcher`).
 * What this instance knows about an agent is forgotten on every `presence.changed` note
 * (here or on another instance) and when the agent's credential ends, so the next
 * heartbeat is written and decided against the database again.
 */
export class Heartbeats {
  private known = new Map<string, Known>()
  private pending = new Map<string, Date>()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly unsubscribe: (() => void)[]
  private readonly writer: WriteBatcher<{ id: string; status: Presence; at: Date }, HeartbeatRow | undefined>

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    bus: EventBus,
  ) {
    const { agents: a } = db.t
    const statement = db.prepared('heartbeat', (orm) =>
      orm
        .update(a)
        .set({
          reportedStatus: sql.placeholder('status') as never,
          lastHeartbeatAt: sql.placeholder('at') as never,
        })
        .where(eq(a.id, sql.placeholder('id')))
        .returning({
          id: a.id,
          permanentId: a.permanentId,
          presence: a.presence,
          reportedStatus: a.reportedStatus,
          lastHeartbeatAt: a.lastHeartbeatAt,
          socketSeenAt: a.socketSeenAt,
          lastHealthOkAt: a.lastHealthOkAt,
          lastHealthCheckAt: a.lastHealthCheckAt,
        }),
    )
    this.writer = new WriteBatcher(db, async (p) => (await statement(p))[0])
    this.unsubscribe = [
      bus.subscribe('presence.changed', (note) => this.known.delete(note.agentId)),
      bus.subscribe('credential.ended', (note) => {
        if (note.agentId) this.known.delete(note.agentId)
      }),
    ]
  }

  /** True when this heartbeat changes nothing but the time: it was noted, to be written within `flushMs`. */
  coalesce(agentId: string, status: Presence, at: Date): Presence | null {
    const k = this.known.get(agentId)
    if (!k || k.status !== status || k.presence !== status) return null
    this.pending.set(agentId, at)
    return k.presence
  }

  /** Writes the heartbeat now; returns the row as it stands after the write (null: the agent is gone). */
  async write(agentId: string, status: Presence, at: Date): Promise<HeartbeatRow | null> {
    this.pending.delete(agentId)
    return (await this.writer.submit({ id: agentId, status, at })) ?? null
  }

  /** What this instance last wrote and decided for the agent. */
  remember(agentId: string, status: Presence, presence: Presence) {
    if (this.known.size >= 100_000) this.known.clear()
    this.known.set(agentId, { status, presence })
  }

  /** A heartbeat time noted but not written yet. */
  pendingAt(agentId: string): Date | undefined {
    return this.pending.get(agentId)
  }

  start(flushMs: number) {
    this.timer = setInterval(() => {
      this.flush().catch((e) => this.log.error('heartbeat flush failed', { error: e }))
    }, flushMs)
    this.timer.unref?.()
  }

  async stop() {
    if (this.timer) clearInterval(this.timer)
    for (const off of this.unsubscribe) off()
    await this.flush()
  }

  /**
   * Writes the noted times, in id order; never moves a time backwards (a fresher write may
   * have landed). A batch that did not land (the database down, a conflict) is kept and
   * written by the next flush: a heartbeat that was answered is never dropped while the
   * process lives.
   */
  async flush() {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    const { agents: a } = this.db.t
    try {
      await writeTimes(this.db, a, a.lastHeartbeatAt, batch, true)
    } catch (e) {
      restore(this.pending, batch)
      throw e
    }
  }

  /** Heartbeat times answered but not written yet (a gauge: it grows while the database is down). */
  get unwritten(): number {
    return this.pending.size
  }
}
