import createClient, { type Client } from 'openapi-fetch'
import { type CommandHandler, CommandPoller, type CommandPollerOptions } from './commands.js'
import { SwitchboardError } from './errors.js'
import { HeartbeatLoop, type HeartbeatOptions } from './heartbeat.js'
import { type LiveEvent, type LiveOptions, LiveSubscription, type WebSocketConstructor } from './live.js'
import type { components, paths } from './schema.js'

/** Every named schema of the API, e.g. `Schemas['Agent']`. */
export type Schemas = components['schemas']
export type Presence = NonNullable<Schemas['HeartbeatRequest']['status']>
type Query<P extends keyof paths, M extends 'get'> = NonNullable<
  paths[P][M] extends { parameters: { query?: infer Q } } ? Q : never
>

export type SwitchboardOptions = {
  /** Where Switchboard answers, e.g. `https://switchboard.example.com`. */
  baseUrl: string
  /** A workspace key (`wk_…`) or an agent token (`tk_…`). */
  token: string
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: (request: Request) => Promise<Response>
  /** Another WebSocket class for live events (Node.js 20 has none built in). */
  WebSocket?: WebSocketConstructor
}

/** Options of a proxy-lane call. */
export type LaneOptions = {
  /** Route to the target's URL for this protocol (x-switchboard-protocol). */
  protocol?: 'mcp' | 'a2a' | 'openai' | 'anp' | 'acp'
  headers?: Record<string, string>
  signal?: AbortSignal
}
/** What fetch takes as a body: text, bytes, a blob, form data or a stream. */
type RawBody = NonNullable<RequestInit['body']>
/** A lane body: a value to send as JSON, or bytes, text or a stream as they are. */
export type LaneBody = RawBody | Record<string, unknown> | unknown[] | null

/**
 * A Switchboard client for one credential. With a workspace key it registers and provisions
 * agents; with an agent token it is that agent's runtime: heartbeats, live events, jobs,
 * messages, commands and the proxy lanes. Methods that take an optional `agentId` default to
 * the calling agent (looked up once with `me()`). Every failure is a `SwitchboardError`.
 * `api` is the underlying openapi-fetch client, typed from the OpenAPI document, for any route.
 */
export class Switchboard {
  readonly api: Client<paths>
  readonly baseUrl: string
  readonly #token: string
  readonly #fetch: (request: Request) => Promise<Response>
  readonly #WebSocket: WebSocketConstructor | undefined
  #self: Promise<Schemas['Agent']> | undefined

  constructor(opts: SwitchboardOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.#token = opts.token
    this.#fetch = opts.fetch ?? ((request) => fetch(request))
    this.#WebSocket = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      headers: { authorization: `Bearer ${opts.token}` },
      fetch: this.#fetch,
    })
  }

  // ── The registry (workspace key) ────────────────────────────────────────────────────────

  /** Registers an agent; the answer carries its token, shown this once. */
  register(body: Schemas['RegisterAgentRequest']) {
    return unwrap(this.api.POST('/api/agents', { body }))
  }

  /** A short-lived agent token for an AI tool runtime. */
  provision(body: Schemas['ProvisionAgentRequest']) {
    return unwrap(this.api.POST('/api/agents/provision', { body }))
  }

  listAgents(query: Query<'/api/agents', 'get'> = {}) {
    return unwrap(this.api.GET('/api/agents', { params: { query } }))
  }

  // ── The agent itself (agent token) ──────────────────────────────────────────────────────

  /** The calling agent. Remembered: later calls that default to "this agent" reuse its id. */
  me(): Promise<Schemas['Agent']> {
    const self = unwrap(this.api.GET('/api/agents/me'))
    this.#self = self
    self.catch(() => {
      if (this.#self === self) this.#self = undefined
    })
    return self
  }

  /** One heartbeat. For a loop that keeps the agent online, see `startHeartbeat`. */
  async heartbeat(status: Presence = 'online', opts: { agentId?: string; signal?: AbortSignal } = {}) {
    const agentId = await this.#agentId(opts.agentId)
    return unwrap(
      this.api.POST('/api/agents/{agentId}/heartbeat', {
        params: { path: { agentId } },
        body: { status },
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    )
  }

  /** Heartbeats until stopped, at a third of the server's online window, with jitter and backoff. */
  startHeartbeat(opts: HeartbeatOptions = {}): HeartbeatLoop {
    return new HeartbeatLoop((status, signal) => this.heartbeat(status, { signal }), opts)
  }

  // ── Live events (WebSocket) ─────────────────────────────────────────────────────────────

  /**
   * The live event stream. It reconnects by itself after a drop or a server restart and
   * resumes after the last event it delivered, so the handler sees each event once, in order.
   */
  subscribe(opts: LiveOptions): LiveSubscription {
    const WebSocketClass = this.#WebSocket
    if (!WebSocketClass)
      throw new SwitchboardError(0, 'network_error', 'No WebSocket class: pass one as `WebSocket`')
    return new LiveSubscription(
      `${this.baseUrl.replace(/^http/, 'ws')}/api/ws`,
      this.#token,
      WebSocketClass,
      opts,
    )
  }

  /** The live stream as an async iterator; `break` (or the signal) closes it. */
  async *events(opts: Omit<LiveOptions, 'onEvent'> = {}): AsyncGenerator<LiveEvent> {
    const queue: LiveEvent[] = []
    let wake = () => {}
    const sub = this.subscribe({
      ...opts,
      onEvent: (e) => {
        queue.push(e)
        wake()
      },
    })
    sub.done.then(() => wake())
    try {
      while (true) {
        const next = queue.shift()
        if (next) {
          yield next
          continue
        }
        if (sub.isClosed) {
          const error = await sub.done
          if (error) throw error
          return
        }
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
    } finally {
      await sub.close()
    }
  }

  // ── Jobs ────────────────────────────────────────────────────────────────────────────────

  getJob(jobId: string) {
    return unwrap(this.api.GET('/api/jobs/{jobId}', { params: { path: { jobId } } }))
  }

  /** Reports how a job sent to this agent ended (after answering its delivery with 202). */
  reportJob(jobId: string, report: Schemas['JobStatusReport']) {
    return unwrap(this.api.POST('/api/jobs/{jobId}/status', { params: { path: { jobId } }, body: report }))
  }

  // ── Messages ────────────────────────────────────────────────────────────────────────────

  async sendMessage(body: Schemas['SendMessageRequest'], opts: { from?: string } = {}) {
    const agentId = await this.#agentId(opts.from)
    return unwrap(
      this.api.POST('/api/agents/{agentId}/messages/send', { params: { path: { agentId } }, body }),
    )
  }

  /** The inbox, oldest first; unread only unless `unreadOnly: 'false'`. */
  async inbox(query: Query<'/api/agents/{agentId}/messages', 'get'> = {}, opts: { agentId?: string } = {}) {
    const agentId = await this.#agentId(opts.agentId)
    return unwrap(this.api.GET('/api/agents/{agentId}/messages', { params: { path: { agentId }, query } }))
  }

  async markRead(messageIds: string[], opts: { agentId?: string } = {}) {
    const agentId = await this.#agentId(opts.agentId)
    return unwrap(
      this.api.POST('/api/agents/{agentId}/messages/read', {
        params: { path: { agentId } },
        body: { messageIds },
      }),
    )
  }

  // ── Commands ────────────────────────────────────────────────────────────────────────────

  async commands(
    query: Query<'/api/agents/{agentId}/commands', 'get'> = {},
    opts: { agentId?: string } = {},
  ) {
    const agentId = await this.#agentId(opts.agentId)
    return unwrap(this.api.GET('/api/agents/{agentId}/commands', { params: { path: { agentId }, query } }))
  }

  /** Reports a command's outcome, once (a second report is a 409 `conflict`). */
  async ack(commandId: string, body: Schemas['AckCommandRequest'], opts: { agentId?: string } = {}) {
    const agentId = await this.#agentId(opts.agentId)
    return unwrap(
      this.api.POST('/api/agents/{agentId}/commands/{commandId}/ack', {
        params: { path: { agentId, commandId } },
        body,
      }),
    )
  }

  /** Polls for pending commands, runs `handler` on each, and acknowledges its outcome. */
  pollCommands(handler: CommandHandler, opts: CommandPollerOptions = {}): CommandPoller {
    return new CommandPoller(this, handler, opts)
  }

  // ── The proxy lanes (agent token) ───────────────────────────────────────────────────────

  /**
   * The sync lane: the other participant's answer, streamed, whatever its status. Only
   * Switchboard's own refusals (no such connection, rate limited, unreachable…) throw.
   */
  callSync(connectionId: string, body?: LaneBody, opts: LaneOptions = {}): Promise<Response> {
    return this.#lane(`/api/proxy/${encodeURIComponent(connectionId)}`, body, opts)
  }

  /** The async lane: a job, answered at once; its final state comes by polling or `callbackUrl`. */
  async callAsync(
    connectionId: string,
    body?: LaneBody,
    opts: LaneOptions & { callbackUrl?: string } = {},
  ): Promise<Schemas['AsyncJobAccepted']> {
    let sent = body
    if (opts.callbackUrl) {
      if (!isJson(body ?? {}))
        throw new SwitchboardError(0, 'unexpected_answer', 'callbackUrl needs a JSON object body')
      sent = { ...(body as Record<string, unknown>), _switchboard: { callback_url: opts.callbackUrl } }
    }
    const res = await this.#lane(`/api/proxy/${encodeURIComponent(connectionId)}/async`, sent, opts)
    return (await res.json()) as Schemas['AsyncJobAccepted']
  }

  /** Fan-out to every member of a broadcast group: one result per member. */
  async callBroadcast(
    groupId: string,
    body?: LaneBody,
    opts: LaneOptions = {},
  ): Promise<Schemas['BroadcastAnswer']> {
    const res = await this.#lane(`/api/proxy/broadcast/${encodeURIComponent(groupId)}`, body, opts)
    return (await res.json()) as Schemas['BroadcastAnswer']
  }

  /** One member of a pool answers (its status and body); all failing throws `pool_exhausted`. */
  callPool(poolId: string, body?: LaneBody, opts: LaneOptions = {}): Promise<Response> {
    return this.#lane(`/api/proxy/pool/${encodeURIComponent(poolId)}`, body, opts)
  }

  async #lane(
    path: `/api/proxy/${string}`,
    body: LaneBody | undefined,
    opts: LaneOptions,
  ): Promise<Response> {
    const headers = new Headers(opts.headers)
    headers.set('authorization', `Bearer ${this.#token}`)
    if (opts.protocol) headers.set('x-switchboard-protocol', opts.protocol)
    let payload: RawBody | null = null
    if (isJson(body)) {
      payload = JSON.stringify(body)
      if (!headers.has('content-type')) headers.set('content-type', 'application/json')
    } else if (body !== undefined) payload = body as RawBody | null
    const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body: payload }
    if (payload instanceof ReadableStream) init.duplex = 'half'
    if (opts.signal) init.signal = opts.signal
    const response = await send(() => this.#fetch(new Request(`${this.baseUrl}${path}`, init)))
    const refused = await SwitchboardError.from(response)
    if (refused) throw refused
    return response
  }

  async #agentId(given: string | undefined): Promise<string> {
    if (given) return given
    return (await (this.#self ?? this.me())).id
  }
}

const isJson = (body: unknown): body is Record<string, unknown> | unknown[] =>
  Array.isArray(body) || (!!body && Object.getPrototypeOf(body) === Object.prototype)

/** A fetch that failed without an answer becomes a `network_error`; an abort stays an abort. */
async function send<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (e) {
    if ((e as { name?: string })?.name === 'AbortError') throw e
    throw new SwitchboardError(
      0,
      'network_error',
      `No answer from Switchboard: ${(e as Error)?.message ?? e}`,
    )
  }
}

/** The data of a successful call, or its error as a `SwitchboardError`. */
async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await send(() => call)
  if (response.ok && data !== undefined) return data
  throw SwitchboardError.fromAnswer(response, error)
}
