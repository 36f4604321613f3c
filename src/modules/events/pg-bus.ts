import postgres from 'postgres'
import type { Logger } from '../../lib/log'
import { BUS_TOPICS, type BusPayload, type BusTopic, type EventNote, LocalBus } from './bus'

const CHANNEL = 'switchboard_bus'
/** NOTIFY payloads must stay under 8000 bytes; ours are a few hundred. */
const MAX_PAYLOAD = 7900
/** Every bus connection carries its instance id in its name: the live instances are those names. */
const APP_NAME = 'switchboard-bus:'
/** How long a confirmed note waits for the other instances' acknowledgements. */
const CONFIRM_MS = 2000

/** `n`: a note that wants an acknowledgement; `t: 'ack'` answers one (`p: {n, to}`). */
type Wire = { i: string; t: BusTopic | 'ack'; p: unknown; n?: string }
type Waiting = { missing: Set<string>; done: () => void }

/**
 * The bus across instances sharing one Postgres: every note is delivered here at once (as
 * LocalBus does) and sent to the others with NOTIFY on a dedicated connection; notes from
 * the others arrive by LISTEN. An instance ignores its own notes by its instance id.
 *
 * Notes are hints. A burst of event notes goes out as its last one (the highest id): a
 * reader reads everything after its cursor from the table anyway. A note lost while the
 * LISTEN connection reconnects is caught up by the readers' periodic re-read.
 */
export class PgBus extends LocalBus {
  private readonly sql: postgres.Sql
  private pendingEvent: EventNote | null = null
  private flushScheduled = false
  private closed = false
  private listening: Promise<unknown> | null = null
  private listens = 0
  private readonly waiting = new Map<string, Waiting>()

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly instanceId: string,
  ) {
    super()
    // One connection for NOTIFY; postgres-js opens its own dedicated one for LISTEN.
    this.sql = postgres(url, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: `${APP_NAME}${instanceId}` },
    })
  }

  /** Starts listening; resolves once LISTEN is in place. */
  async start(): Promise<void> {
    this.listening ??= this.sql.listen(
      CHANNEL,
      (raw) => this.receive(raw),
      () => {
        // Listening again after the connection broke: notes sent meanwhile never arrived here,
        // so whatever this instance caches may be stale. Every cache forgets it all.
        if (this.listens++ > 0) this.deliver('caches.stale', {})
      },
    )
    await this.listening
  }

  /**
   * Delivers here, then waits until every other instance whose bus connection is up (the
   * sessions named after an instance id) has acted on the note and said so, at most
   * CONFIRM_MS. An instance that stays silent is logged; its caches still end by TTL, and it
   * forgets everything when its listen connection comes back.
   */
  override async publishConfirmed<T extends BusTopic>(topic: T, payload: BusPayload<T>): Promise<void> {
    this.deliver(topic, payload)
    if (this.closed) return
    const others = await this.peers().catch((e) => {
      this.log.warn('bus: could not list the other instances', { error: e })
      return [] as string[]
    })
    if (others.length === 0) {
      this.send(topic, payload)
      return
    }
    const nonce = crypto.randomUUID()
    const confirmed = new Promise<void>((done) => this.waiting.set(nonce, { missing: new Set(others), done }))
    this.send(topic, payload, nonce)
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([confirmed, new Promise<void>((r) => (timer = setTimeout(r, CONFIRM_MS)))])
    clearTimeout(timer)
    const left = this.waiting.get(nonce)
    this.waiting.delete(nonce)
    if (left && left.missing.size > 0)
      this.log.warn('bus: instances did not confirm a note in time', {
        topic,
        instances: [...left.missing],
        waitedMs: CONFIRM_MS,
      })
  }

  /** The other instances with a bus connection to this database now. */
  private async peers(): Promise<string[]> {
    const rows = await this.sql<{ name: string }[]>`
      select distinct application_name as name from pg_stat_activity
      where datname = current_database() and application_name like ${`${APP_NAME}%`}`
    return rows.map((r) => r.name.slice(APP_NAME.length)).filter((id) => id !== this.instanceId)
  }

  override publish<T extends BusTopic>(topic: T, payload: BusPayload<T>) {
    this.deliver(topic, payload)
    if (this.closed) return
    if (topic === 'events') {
      const note = payload as EventNote
      if (!this.pendingEvent || note.id > this.pendingEvent.id) this.pendingEvent = note
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flushEvents())
      }
      return
    }
    this.send(topic, payload)
  }

  override async close() {
    this.closed = true
    await super.close()
    await this.sql.end({ timeout: 2 }).catch(() => {})
  }

  private flushEvents() {
    this.flushScheduled = false
    const note = this.pendingEvent
    this.pendingEvent = null
    if (note) this.send('events', note)
  }

  private send(topic: Wire['t'], payload: unknown, nonce?: string) {
    const wire: Wire = { i: this.instanceId, t: topic, p: payload }
    if (nonce) wire.n = nonce
    const text = JSON.stringify(wire)
    if (text.length > MAX_PAYLOAD) {
      this.log.warn('bus note too large to send to other instances', { topic, bytes: text.length })
      return
    }
    this.sql.notify(CHANNEL, text).catch((e) => {
      if (!this.closed) this.log.warn('bus notify failed', { topic, error: e })
    })
  }

  private receive(raw: string) {
    let wire: Wire
    try {
      wire = JSON.parse(raw) as Wire
    } catch {
      return
    }
    if (wire.i === this.instanceId) return
    if (wire.t === 'ack') return this.acknowledged(wire)
    if (!BUS_TOPICS.includes(wire.t)) return
    this.deliver(wire.t, wire.p as BusPayload<typeof wire.t>)
    // Delivery is synchronous: by now every subscriber here has acted on the note.
    if (wire.n) this.send('ack', { n: wire.n, to: wire.i })
  }

  private acknowledged(wire: Wire) {
    const p = wire.p as { n?: unknown; to?: unknown }
    if (p.to !== this.instanceId || typeof p.n !== 'string') return
    const w = this.waiting.get(p.n)
    if (!w) return
    w.missing.delete(wire.i)
    if (w.missing.size === 0) w.done()
  }
}
