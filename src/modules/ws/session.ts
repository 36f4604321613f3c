import type { ServerWebSocket } from 'bun'
import type { EventRow, EventScope } from '../events/feed'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'

export type Raw = ServerWebSocket<unknown>
export type StreamActor = WorkspaceActor | AgentActor

/**
 * One open `GET /api/ws` socket. `cursor` is the id of the last event this socket has been
 * given (or skipped by its filter): every event it gets has a larger id, so nothing is sent
 * twice, and everything after it comes from the table, so nothing is lost.
 */
export class Session {
  actor: StreamActor | null = null
  secret: string | null = null
  /** Set for a console session: how its credential is checked again. */
  recheck: (() => Promise<StreamActor | null>) | null = null
  /** An auth frame is being checked: a second one is refused. */
  authenticating = false
  cursor = 0
  filter: ((type: string) => boolean) | null = null
  /** In the hub's live sets: new events reach it as the hub reads them. */
  live = false
  /** Bumped by a resume: a catch-up loop of an older generation stops. */
  gen = 0
  /** Commands replayed on connect: their `command.queued` events are not sent again. */
  replayed: Set<string> | null = null
  closed = false
  countedSocket = false
  authTimer: ReturnType<typeof setTimeout> | null = null
  /** Resolves once the cursor is set: frames that depend on it wait for this. */
  started: Promise<void> = Promise.resolve()
  pending: string[] = []
  /** In the hub's list of sockets to flush after a read. */
  queued = false
  private drainWaiters: (() => void)[] = []
  /** A slow consumer's close, sent once its backlog drains. */
  private afterDrain: (() => void) | null = null

  constructor(
    readonly raw: Raw,
    private readonly opts: {
      maxBufferBytes: number
      onCommandDelivered: (commandId: string) => void
      /** Frames Bun refused (its own buffer limit): the socket is closed for them and must resume. */
      onDropped?: (frames: number) => void
      /** How long a slow consumer's close may wait for its backlog to drain. */
      slowCloseWaitMs?: number
    },
    private readonly onSlow?: () => void,
  ) {}

  get agentId(): string | null {
    return this.actor?.kind === 'agent' ? this.actor.agentId : null
  }

  /** The credential's owner: invalidation notes name it. */
  get ownerId(): string | null {
    if (!this.actor) return null
    return this.actor.kind === 'agent' ? this.actor.agentId : this.actor.keyId
  }

  get scope(): EventScope {
    const a = this.actor!
    return a.kind === 'agent' ? { agentId: a.agentId } : { workspaceId: a.workspaceId }
  }

  /** Queues an event unless this socket is already past it or filters it out. True when queued. */
  offer(row: EventRow, frame: string): boolean {
    if (row.id <= this.cursor) return false
    this.cursor = row.id
    if (this.filter && !this.filter(row.type)) return false
    if (row.type === 'command.queued' && row.agentId !== null && row.agentId === this.agentId) {
      const commandId = String(row.data.commandId)
      if (this.replayed?.has(commandId)) return false
      this.opts.onCommandDelivered(commandId)
    }
    this.pending.push(frame)
    return true
  }

  /**
   * Sends what is queued (corked: one write for the lot) and says how many frames went. A
   * single frame written straight through needs no look at the buffer (the hot path of a
   * fan-out); one that had to buffer (-1) or was dropped (0) does, and so does a corked lot,
   * whose backpressure only shows once it is uncorked. A socket past its limit is closed.
   */
  flush(): number {
    const frames = this.pending
    this.pending = []
    if (frames.length === 0 || this.closed) return 0
    let worst = 1
    let dropped = 0
    if (frames.length === 1) {
      worst = this.raw.send(frames[0]!)
      if (worst === 0) dropped = 1
    } else
      this.raw.cork(() => {
        for (const f of frames) {
          const r = this.raw.send(f)
          if (r === 0) dropped++
          worst = Math.min(worst, r)
        }
      })
    if (dropped > 0) this.opts.onDropped?.(dropped)
    if (worst <= 0 || frames.length > 1) this.checkBuffer(worst === 0)
    return frames.length - dropped
  }

  /** A control frame, sent at once. */
  sendNow(text: string) {
    if (this.closed) return
    const dropped = this.raw.send(text) === 0
    if (dropped) this.opts.onDropped?.(1)
    this.checkBuffer(dropped)
  }

  buffered(): number {
    return this.closed ? 0 : this.raw.getBufferedAmount()
  }

  close(code: number, reason: string) {
    if (this.closed) return
    this.closed = true
    this.wakeDrainWaiters()
    try {
      this.raw.close(code, reason)
    } catch {}
  }

  /**
   * Closes a consumer that fell behind with 4008. Its close frame would sit behind the data it
   * has not read, and the transport ends a socket whose close is not answered within ~16 s,
   * discarding both: a client stalled that long would see 1006 and not know to resume. So
   * nothing more is sent, and the close frame goes out once the backlog has drained (the
   * client is reading again), or after `maxWaitMs` for a client that never comes back.
   */
  closeSlow(maxWaitMs: number) {
    if (this.closed) return
    this.closed = true
    this.onSlow?.()
    const reason = 'slow consumer: resume with ?since=<last id>'
    const finish = () => {
      clearTimeout(timer)
      this.afterDrain = null
      try {
        this.raw.close(4008, reason)
      } catch {}
    }
    const timer = setTimeout(finish, maxWaitMs)
    if (this.raw.getBufferedAmount() === 0) finish()
    else this.afterDrain = finish
  }

  /** Resolves when the socket drains (or after `ms`, or when it closes). */
  waitDrain(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.drainWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  wakeDrainWaiters() {
    this.afterDrain?.()
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const w of waiters) w()
  }

  private checkBuffer(dropped: boolean) {
    // A dropped frame (Bun's own limit) would be a gap: the client must resume instead.
    if (dropped || this.raw.getBufferedAmount() > this.opts.maxBufferBytes) {
      this.closeSlow(this.opts.slowCloseWaitMs ?? 120_000)
    }
  }
}
