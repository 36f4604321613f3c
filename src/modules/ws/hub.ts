import type { Deps } from '../../deps'
import type { CounterSeries } from '../../lib/metrics'
import { markCommandsDelivered, waitingCommands } from '../commands/delivery'
import type { CredentialEndedNote, EventNote } from '../events/bus'
import { type EventRow, latestEventId, readEvents, readVisibleEvents } from '../events/feed'
import { SocketPresence } from './presence'
import { CLOSE, controlFrame, eventFrame, typeFilter } from './protocol'
import { type Raw, Session, type StreamActor } from './session'

/** Rows per read: of the shared feed, and of one socket catching up. */
const FEED_PAGE = 1000
const CATCH_UP_PAGE = 500

/**
 * What a socket authenticated with. `recheck` re-resolves a credential that is not a bearer
 * secret (a console session); without it, `secret` is resolved again.
 */
export type StreamCredential = {
  actor: StreamActor
  secret: string
  recheck?: () => Promise<StreamActor | null>
}

/**
 * Every live socket of this instance, and the one reader that feeds them.
 *
 * The events table is the only source: nothing a bus note carries is ever sent. A note
 * ("events up to id N exist") wakes the feed, which reads every event after its `head`
 * once, serialises each once, and hands it to the live sockets it concerns (by workspace,
 * and by agent and peer agent); each socket skips what its cursor is already past. A socket
 * that connects with `?since=`, resumes, or is new reads its own pages from the table up to
 * the feed's head, and joins the live sets in the same synchronous step in which it reaches
 * that head — so the switch from replay to live has no gap and no duplicate. On Postgres a
 * periodic re-read catches up events whose note was lost.
 */
export class LiveHub {
  private readonly sockets = new WeakMap<Raw, Session>()
  private readonly sessions = new Set<Session>()
  private readonly liveByWorkspace = new Map<string, Set<Session>>()
  private readonly liveByAgent = new Map<string, Set<Session>>()
  private readonly byOwner = new Map<string, Set<Session>>()
  private readonly presence: SocketPresence
  /** The last event id the feed has read. */
  private head = 0
  /** SQLite: the highest id announced after commit; reads never go past it (see latestEventId). */
  private committed = 0
  private ready: Promise<void> | null = null
  private reading = false
  private again = false
  private touched: Session[] = []
  private delivered: string[] = []
  private timers: ReturnType<typeof setInterval>[] = []
  private stopping = false
  private readonly unsubscribe: (() => void)[]
  private readonly framesSent
  private readonly framesDropped: CounterSeries
  private readonly closes
  private readonly slow

  constructor(private readonly deps: Deps) {
    this.presence = new SocketPresence(deps)
    this.unsubscribe = [
      deps.bus.subscribe('events', (n) => this.onNote(n)),
      deps.bus.subscribe('credential.ended', (n) => this.onCredentialEnded(n)),
    ]
    this.framesSent = deps.metrics.counter(
      'switchboard_ws_events_sent_total',
      'Event frames sent to WebSockets',
    )
    this.framesDropped = deps.metrics
      .counter(
        'switchboard_ws_events_dropped_total',
        'Frames the socket refused (its buffer was full); the socket is closed 4008 and resumes with ?since=',
      )
      .series()
    this.closes = deps.metrics.counter('switchboard_ws_closed_total', 'WebSockets closed, by close code')
    this.slow = deps.metrics.counter(
      'switchboard_ws_slow_consumers_total',
      'Sockets that fell behind (closed with 4008 once their backlog drains)',
    )
    deps.metrics.gauge('switchboard_ws_connections', 'Open WebSockets by credential kind', () => {
      const n = { workspace: 0, agent: 0, pending: 0 }
      for (const s of this.sessions) n[s.actor?.kind ?? 'pending']++
      return Object.entries(n).map(([kind, v]) => [{ kind }, v])
    })
  }

  // ---- the transport's entry points -------------------------------------------------

  /** A socket opened, authenticated already (header or `?token=`) or waiting for its auth frame. */
  open(raw: Raw, credential: StreamCredential | null, since: number | undefined) {
    if (this.stopping) {
      raw.close(CLOSE.goingAway, 'server shutting down')
      return
    }
    const s = new Session(
      raw,
      {
        maxBufferBytes: this.deps.config.live.maxBufferBytes,
        onCommandDelivered: (id) => this.noteDelivered(id),
        onDropped: (n) => {
          this.framesDropped.value += n
        },
      },
      () => this.slow.inc(),
    )
    this.sockets.set(raw, s)
    this.sessions.add(s)
    this.startTimers()
    if (credential) {
      s.started = this.begin(s, credential, since, undefined)
      return
    }
    s.authTimer = setTimeout(
      () => s.close(CLOSE.unauthorized, 'send {"type":"auth","token":…} first'),
      this.deps.config.live.authTimeoutMs,
    )
  }

  session(raw: Raw): Session | undefined {
    return this.sockets.get(raw)
  }

  /** The auth frame's credential was accepted. A session is authenticated once. */
  authenticated(
    s: Session,
    credential: StreamCredential,
    since: number | undefined,
    types: string[] | undefined,
  ) {
    if (s.actor) return
    s.started = this.begin(s, credential, since, types)
  }

  subscribe(s: Session, types: string[]) {
    s.filter = typeFilter(types)
    s.sendNow(controlFrame('subscribed', { types }))
  }

  /** Replays from `since` again, then goes live. */
  resume(s: Session, since: number) {
    s.gen++
    this.leaveLive(s)
    s.cursor = since
    void this.catchUp(s)
  }

  drain(raw: Raw) {
    this.sockets.get(raw)?.wakeDrainWaiters()
  }

  closed(raw: Raw, code: number) {
    const s = this.sockets.get(raw)
    if (!s) return
    this.closes.inc({ code: String(code) })
    this.forget(s)
  }

  /** Closes every socket (1001), stops the timers, and waits for their presence to be cleared. */
  async shutdown() {
    this.stopping = true
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    for (const s of [...this.sessions]) {
      s.close(CLOSE.goingAway, 'server shutting down')
      this.forget(s)
    }
    for (const u of this.unsubscribe) u()
    await this.presence.settle()
  }

  // ---- a socket's life ----------------------------------------------------------------

  private async begin(
    s: Session,
    c: StreamCredential,
    since: number | undefined,
    types: string[] | undefined,
  ) {
    try {
      if (s.authTimer) clearTimeout(s.authTimer)
      s.actor = c.actor
      s.secret = c.secret
      s.recheck = c.recheck ?? null
      s.filter = typeFilter(types)
      addTo(this.byOwner, s.ownerId!, s)
      await this.init()
      if (s.closed) return
      s.cursor = since ?? this.head
      s.sendNow(controlFrame('ready', { cursor: s.cursor, actor: describe(c.actor), types: types ?? ['*'] }))
      const agentId = s.agentId
      if (agentId) {
        // After the cursor is set, so the agent's own socket sees the status change it causes.
        s.countedSocket = true
        this.presence.up(agentId)
        await this.replayCommands(s)
      }
      void this.catchUp(s)
    } catch (e) {
      this.fail(s, e)
    }
  }

  /** Commands still queued for the agent are sent first, carrying the cursor the stream starts after. */
  private async replayCommands(s: Session) {
    const a = s.actor as Extract<StreamActor, { kind: 'agent' }>
    if (s.filter && !s.filter('command.queued')) return
    const waiting = await waitingCommands(this.deps, a.agentId, a.permanentId)
    if (s.closed || waiting.length === 0) return
    s.replayed = new Set(waiting.map((w) => w.commandId))
    for (const w of waiting) {
      s.pending.push(
        eventFrame({ id: s.cursor, type: 'command.queued', createdAt: new Date(w.at), data: w.data }),
      )
      this.noteDelivered(w.commandId)
    }
    this.framesSent.inc({}, s.flush())
  }

  /**
   * Reads the socket's own pages up to the feed's head, then joins the live sets. The head
   * is re-read after every await, and the join happens without an await in between.
   */
  private async catchUp(s: Session) {
    const gen = s.gen
    const { maxBufferBytes } = this.deps.config.live
    try {
      await this.init()
      for (;;) {
        if (s.closed || s.gen !== gen) return
        const upTo = this.head
        if (s.cursor >= upTo) {
          this.joinLive(s)
          return
        }
        const rows = await readVisibleEvents(this.deps, s.scope, s.cursor, upTo, CATCH_UP_PAGE)
        if (s.closed || s.gen !== gen) return
        for (const row of rows) s.offer(row, eventFrame(row))
        if (rows.length < CATCH_UP_PAGE) s.cursor = Math.max(s.cursor, upTo)
        this.framesSent.inc({}, s.flush())
        // A replay is paced by the client: wait for the buffer to drain before reading more.
        while (!s.closed && s.buffered() > maxBufferBytes / 2) await s.waitDrain(1000)
      }
    } catch (e) {
      this.fail(s, e)
    }
  }

  private joinLive(s: Session) {
    s.live = true
    const a = s.actor!
    if (a.kind === 'agent') addTo(this.liveByAgent, a.agentId, s)
    else addTo(this.liveByWorkspace, a.workspaceId, s)
  }

  private leaveLive(s: Session) {
    if (!s.live) return
    s.live = false
    const a = s.actor!
    if (a.kind === 'agent') removeFrom(this.liveByAgent, a.agentId, s)
    else removeFrom(this.liveByWorkspace, a.workspaceId, s)
  }

  private forget(s: Session) {
    if (!this.sessions.delete(s)) return
    s.closed = true
    s.wakeDrainWaiters()
    if (s.authTimer) clearTimeout(s.authTimer)
    this.leaveLive(s)
    if (s.ownerId) removeFrom(this.byOwner, s.ownerId, s)
    if (s.countedSocket && s.agentId) this.presence.down(s.agentId)
    if (this.sessions.size === 0) {
      for (const t of this.timers) clearInterval(t)
      this.timers = []
      // Nobody reads while nobody listens: the next socket starts from a fresh head.
      this.ready = null
    }
  }

  private fail(s: Session, e: unknown) {
    this.deps.log.error('live stream failed', { error: e })
    s.close(CLOSE.internal, 'internal error; resume with ?since=')
  }

  // ---- the feed -----------------------------------------------------------------------

  private init(): Promise<void> {
    this.ready ??= latestEventId(this.deps).then((latest) => {
      this.head = Math.max(this.head, latest)
      this.committed = Math.max(this.committed, latest)
    })
    return this.ready
  }

  private onNote(note: EventNote) {
    if (note.id > this.committed) this.committed = note.id
    if (this.sessions.size > 0 && note.id > this.head) this.wake()
  }

  private wake() {
    if (this.reading) {
      this.again = true
      return
    }
    this.reading = true
    // Notes that arrive in the same tick are served by one read.
    setImmediate(() => void this.pump())
  }

  private async pump() {
    try {
      do {
        this.again = false
        if (this.sessions.size === 0) break
        await this.init()
        // SQLite: only what is known committed. Postgres: a visible row is a committed row.
        const upTo = this.deps.db.dialect === 'sqlite' ? this.committed : Number.MAX_SAFE_INTEGER
        if (upTo <= this.head) continue
        const rows = await readEvents(this.deps, this.head, upTo, FEED_PAGE)
        if (rows.length > 0) {
          this.deliver(rows)
          this.head = rows[rows.length - 1]!.id
        }
        if (rows.length === FEED_PAGE) this.again = true
        else if (upTo !== Number.MAX_SAFE_INTEGER) this.head = Math.max(this.head, upTo)
      } while (this.again)
    } catch (e) {
      // The next note or re-read tries again; sockets lose nothing, the cursor did not move.
      this.deps.log.warn('live feed read failed', { error: e })
    } finally {
      this.reading = false
    }
  }

  private deliver(rows: EventRow[]) {
    const touched = this.touched
    const offerAll = (set: Set<Session> | undefined, row: EventRow, frame: string) => {
      if (!set) return
      for (const s of set) {
        if (s.offer(row, frame) && !s.queued) {
          s.queued = true
          touched.push(s)
        }
      }
    }
    for (const row of rows) {
      const ws = this.liveByWorkspace.get(row.workspaceId)
      const subject = row.agentId ? this.liveByAgent.get(row.agentId) : undefined
      const peer =
        row.peerAgentId && row.peerAgentId !== row.agentId ? this.liveByAgent.get(row.peerAgentId) : undefined
      if (!ws && !subject && !peer) continue
      const frame = eventFrame(row)
      offerAll(ws, row, frame)
      offerAll(subject, row, frame)
      offerAll(peer, row, frame)
    }
    let sent = 0
    for (const s of touched) {
      s.queued = false
      sent += s.flush()
    }
    touched.length = 0
    if (sent > 0) this.framesSent.inc({}, sent)
  }

  // ---- credentials and keepalive -------------------------------------------------------

  private onCredentialEnded(note: CredentialEndedNote) {
    for (const owner of [note.agentId, note.keyId]) {
      if (!owner) continue
      for (const s of this.byOwner.get(owner) ?? []) void this.revalidate(s)
    }
  }

  /** Closes the socket (4009) when its credential no longer resolves to the same owner. */
  private async revalidate(s: Session) {
    if ((!s.secret && !s.recheck) || s.closed) return
    let actor: Awaited<ReturnType<Deps['credentials']['resolve']>>
    try {
      actor = s.recheck ? await s.recheck() : await this.deps.credentials.resolve(s.secret!)
    } catch {
      return // the database is unreachable; the next keepalive tries again
    }
    const owner = actor?.kind === 'agent' ? actor.agentId : actor?.kind === 'workspace' ? actor.keyId : null
    if (owner !== s.ownerId)
      s.close(CLOSE.credentialEnded, 'credential revoked, rotated, expired or disabled')
  }

  private startTimers() {
    if (this.timers.length > 0) return
    const { pingMs, resyncMs } = this.deps.config.live
    this.timers.push(setInterval(() => this.keepalive(), pingMs))
    if (this.deps.db.dialect === 'pg') this.timers.push(setInterval(() => this.wake(), resyncMs))
  }

  /** Pings every socket, re-checks its credential (expiry), and refreshes socket presence. */
  private keepalive() {
    for (const s of this.sessions) {
      if (!s.actor || s.closed) continue
      try {
        s.raw.ping()
      } catch {}
      void this.revalidate(s)
    }
    this.presence.refresh()
  }

  private noteDelivered(commandId: string) {
    if (this.delivered.push(commandId) > 1) return
    setImmediate(() => {
      const ids = this.delivered
      this.delivered = []
      markCommandsDelivered(this.deps, ids).catch((e) =>
        this.deps.log.warn('marking commands delivered failed', { error: e }),
      )
    })
  }
}

function describe(a: StreamActor) {
  return a.kind === 'agent'
    ? { kind: 'agent', workspaceId: a.workspaceId, agentId: a.agentId, permanentId: a.permanentId }
    : { kind: 'workspace', workspaceId: a.workspaceId }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, v: V) {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  set.add(v)
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, v: V) {
  const set = map.get(key)
  if (!set) return
  set.delete(v)
  if (set.size === 0) map.delete(key)
}
