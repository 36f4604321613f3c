import { type Backoff, retryDelay, sleep } from './backoff.js'
import { SwitchboardError } from './errors.js'

/** One event of the live stream; `id` only grows and is the resume cursor. */
export type LiveEvent = { id: number; type: string; at: string; data: Record<string, unknown> }

/** The part of the standard WebSocket this client uses (browsers, Bun, Deno, Node.js 22+, `ws`). */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

export type LiveOptions = {
  /** Called once per event, in order; the next waits for it when it returns a promise. */
  onEvent: (event: LiveEvent) => void | Promise<void>
  /** Start after this event id (replaying what is stored after it); default: from now. */
  since?: number
  /** Only these types: exact (`job.completed`), a family (`job.*`), or `*`. */
  types?: string[]
  /** Each (re)connection is authenticated and live, from `cursor` on. */
  onReady?: (info: { cursor: number; reconnects: number }) => void
  /** A connection dropped (it reconnects) or the server sent an error frame. */
  onError?: (error: SwitchboardError) => void
  /** Waits between reconnects: exponential, capped (default 250 ms up to 30 s). */
  reconnect?: Backoff
  signal?: AbortSignal
}

/** Close codes after which reconnecting cannot help: the credential is refused or has ended. */
const FINAL_CLOSES: Record<number, [number, string]> = {
  4000: [400, 'invalid_request'],
  4001: [401, 'unauthorized'],
  4003: [403, 'forbidden'],
  4009: [401, 'unauthorized'],
}

/**
 * A live subscription that stays up: after a drop, a server restart or a slow-consumer close
 * it reconnects with backoff and resumes after the last event it delivered (`since`), so the
 * handler sees every stored event once, in order. The token goes in the first frame, not the
 * URL, so it stays out of access logs. It ends on `close()`, the signal, or a refused credential.
 */
export class LiveSubscription {
  /** The id of the last event delivered (or the cursor the stream started from). */
  lastId: number | undefined
  /** Resolves when the subscription has ended: with the error that ended it, or null when closed. */
  readonly done: Promise<SwitchboardError | null>
  reconnects = 0
  readonly #abort = new AbortController()
  #socket: WebSocketLike | undefined

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly WebSocketClass: WebSocketConstructor,
    private readonly opts: LiveOptions,
  ) {
    this.lastId = opts.since
    opts.signal?.addEventListener('abort', () => this.#stop(), { once: true })
    this.done = this.#run()
  }

  get isClosed(): boolean {
    return this.#abort.signal.aborted
  }

  async close(): Promise<void> {
    this.#stop()
    await this.done
  }

  #stop() {
    this.#abort.abort()
    this.#socket?.close(1000, 'closed by the client')
  }

  async #run(): Promise<SwitchboardError | null> {
    const backoff = this.opts.reconnect ?? { baseMs: 250, maxMs: 30_000 }
    let failures = 0
    while (!this.isClosed) {
      const outcome = await this.#connect()
      if (outcome.final) {
        this.#abort.abort()
        return outcome.final
      }
      if (this.isClosed) break
      failures = outcome.wasLive ? 1 : failures + 1
      this.opts.onError?.(outcome.error)
      await sleep(retryDelay(failures, backoff, Math.random()), this.#abort.signal)
      this.reconnects++
    }
    return null
  }

  /** One connection, until it closes. */
  #connect(): Promise<{ wasLive: boolean; error: SwitchboardError; final?: SwitchboardError }> {
    return new Promise((resolve) => {
      let wasLive = false
      // Frames are handled one after another, in arrival order, even when the handler is async.
      let chain: Promise<void> = Promise.resolve()
      const socket = new this.WebSocketClass(this.url)
      this.#socket = socket
      socket.onopen = () => {
        socket.send(
          JSON.stringify({
            type: 'auth',
            token: this.token,
            ...(this.lastId !== undefined ? { since: this.lastId } : {}),
            ...(this.opts.types ? { types: this.opts.types } : {}),
          }),
        )
      }
      socket.onmessage = (message) => {
        let frame: { id?: unknown; type?: unknown; cursor?: unknown; error?: unknown; code?: unknown }
        try {
          frame = JSON.parse(String(message.data))
        } catch {
          return
        }
        if (typeof frame.id === 'number') {
          const event = frame as LiveEvent
          // A replay may overlap what was delivered before a drop; nothing is handed on twice.
          if (this.lastId !== undefined && event.id <= this.lastId) return
          this.lastId = event.id
          chain = chain.then(() => this.opts.onEvent(event)).catch((e) => this.#handlerFailed(e))
        } else if (frame.type === 'ready' && typeof frame.cursor === 'number') {
          wasLive = true
          // From here on nothing is missed even if no event comes before the next drop.
          this.lastId ??= frame.cursor
          this.opts.onReady?.({ cursor: frame.cursor, reconnects: this.reconnects })
        } else if (frame.type === 'error') {
          this.opts.onError?.(
            new SwitchboardError(400, 'invalid_request', String(frame.error ?? 'error frame')),
          )
        }
      }
      socket.onerror = () => {}
      socket.onclose = ({ code, reason }) => {
        this.#socket = undefined
        const final = FINAL_CLOSES[code]
        const error = final
          ? new SwitchboardError(final[0], final[1] as SwitchboardError['code'], reason || `closed ${code}`)
          : new SwitchboardError(
              0,
              'network_error',
              `live stream closed (${code}${reason ? `: ${reason}` : ''})`,
            )
        chain.then(() => resolve(final ? { wasLive, error, final: error } : { wasLive, error }))
      }
    })
  }

  #handlerFailed(e: unknown) {
    this.opts.onError?.(
      new SwitchboardError(0, 'unexpected_answer', `onEvent threw: ${(e as Error)?.message ?? e}`),
    )
  }
}
