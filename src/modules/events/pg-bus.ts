import postgres from 'postgres'
import type { Logger } from '../../lib/log'
import { BUS_TOPICS, type BusPayload, type BusTopic, type EventNote, LocalBus } from './bus'

const CHANNEL = 'switchboard_bus'
/** NOTIFY payloads must stay under 8000 bytes; ours are a few hundred. */
const MAX_PAYLOAD = 7900

type Wire = { i: string; t: BusTopic; p: unknown }

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
      connection: { application_name: 'switchboard-bus' },
    })
  }

  /** Starts listening; resolves once LISTEN is in place. */
  async start(): Promise<void> {
    this.listening ??= this.sql.listen(CHANNEL, (raw) => this.receive(raw))
    await this.listening
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

  private send(topic: BusTopic, payload: unknown) {
    const text = JSON.stringify({ i: this.instanceId, t: topic, p: payload } satisfies Wire)
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
    if (wire.i === this.instanceId || !BUS_TOPICS.includes(wire.t)) return
    this.deliver(wire.t, wire.p as BusPayload<typeof wire.t>)
  }
}
