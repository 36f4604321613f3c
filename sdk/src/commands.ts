import { type Backoff, jittered, retryDelay, sleep } from './backoff.js'
import type { Switchboard } from './client.js'
import { SwitchboardError } from './errors.js'
import type { components } from './schema.js'

type Command = components['schemas']['Command']
type JsonValue = components['schemas']['JsonValue']

/** Runs one command; what it returns is the `done` result, what it throws makes it `failed`. */
export type CommandHandler = (command: Command) => JsonValue | undefined | Promise<JsonValue | undefined>

export type CommandPollerOptions = {
  /** Between polls when there is nothing to do (default 5 s). */
  intervalMs?: number
  /** Share of the interval each wait moves by, either way (default 0.1). */
  jitter?: number
  /** Waits after a failed poll: exponential, capped (default 1 s up to 60 s). */
  backoff?: Backoff
  /** The agent whose commands to run (default: the calling agent). */
  agentId?: string
  /** A poll or an acknowledgement failed; the poller goes on when a retry can help. */
  onError?: (error: SwitchboardError) => void
  signal?: AbortSignal
}

/**
 * Polls the agent's pending commands (oldest first), hands each to the handler and
 * acknowledges the outcome: `done` with what the handler returned, `failed` with the
 * message it threw. A command acknowledged meanwhile (409) is skipped. Commands also arrive
 * live as `command.queued` events; polling catches the ones queued while nobody listened.
 */
export class CommandPoller {
  /** Resolves when the poller has ended: with the error that ended it, or null when stopped. */
  readonly done: Promise<SwitchboardError | null>
  handled = 0
  readonly #abort = new AbortController()

  constructor(
    private readonly client: Switchboard,
    private readonly handler: CommandHandler,
    private readonly opts: CommandPollerOptions,
  ) {
    opts.signal?.addEventListener('abort', () => this.#abort.abort(), { once: true })
    this.done = this.#run()
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    await this.done
  }

  async #run(): Promise<SwitchboardError | null> {
    const signal = this.#abort.signal
    const backoff = this.opts.backoff ?? { baseMs: 1000, maxMs: 60_000 }
    const agent = this.opts.agentId ? { agentId: this.opts.agentId } : {}
    let failures = 0
    while (!signal.aborted) {
      let wait = jittered(this.opts.intervalMs ?? 5000, this.opts.jitter ?? 0.1, Math.random())
      try {
        const { commands } = await this.client.commands({ pending: 'true' }, agent)
        failures = 0
        for (const command of commands) {
          if (signal.aborted) break
          await this.#handle(command, agent)
        }
      } catch (e) {
        const error = e instanceof SwitchboardError ? e : new SwitchboardError(0, 'network_error', String(e))
        this.opts.onError?.(error)
        if (!error.retryable) return error
        wait = Math.max(retryDelay(++failures, backoff, Math.random()), (error.retryAfterSeconds ?? 0) * 1000)
      }
      await sleep(wait, signal)
    }
    return null
  }

  async #handle(command: Command, agent: { agentId?: string }) {
    let ack: components['schemas']['AckCommandRequest']
    try {
      const result = await this.handler(command)
      ack = result === undefined ? { status: 'done' } : { status: 'done', result }
    } catch (e) {
      ack = { status: 'failed', result: { error: (e as Error)?.message ?? String(e) } }
    }
    try {
      await this.client.ack(command.id, ack, agent)
      this.handled++
    } catch (e) {
      // Acknowledged meanwhile (by another runner): nothing left to do.
      if (e instanceof SwitchboardError && e.code === 'conflict') return
      throw e
    }
  }
}
