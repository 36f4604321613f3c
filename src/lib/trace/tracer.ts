import type { OtelConfig } from './config'
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent, parseTracestate } from './context'

/** One upstream call as the request's log line tells it. */
export type HopRecord = {
  lane: string
  /** The permanent id of the agent that took the call; null for an address of the user's own. */
  agent: string | null
  /** The upstream's HTTP status; null when no answer came. */
  status: number | null
  /** The outcome label of the upstream metrics (2xx… or timeout, refused, network…). */
  outcome: string
  /** Until the answer's headers (or the failure). */
  ms: number
}

/** A call whose request names a model (the OpenAI relay): the span gets the GenAI conventions. */
export type GenAiCall = { operation: string; model: string; provider?: string }

export type HopInfo = {
  lane: string
  protocol: string | null
  method: string
  url: string
  /** Callback URLs often carry a secret in their path: only their origin goes on a span. */
  originOnly: boolean
  agent: { id: string; permanentId: string; workspaceId: string } | null
  genAi: GenAiCall | undefined
}
export type HopEnd = { status: number | null; failure: string | null }
export type HopSpan = { readonly traceparent: string; end(result: HopEnd): void }

export type RequestStart = {
  method: string
  url: string
  userAgent: string | null
  /** Epoch milliseconds. */
  startedAt: number
}
export type RequestEnd = { route: string; status: number; errorCode: string | null; clientIp: string | null }

/**
 * The trace context of one unit of work: a request, or work Switchboard does on its own (a
 * health sweep, a job's callback). `spanId` is the unit's own span, the parent of every hop
 * it makes. With an exporter the span is started on first use, so until then the unit may
 * still join another trace (`adopt`: a status report without a traceparent joins its job's).
 */
export class Trace {
  /** Set by the exporter when it starts this unit's span. */
  span: unknown = null
  /** The upstream calls made so far, when `logsHops` (allocated on the first). */
  hops: HopRecord[] | null = null
  constructor(
    public traceId: string,
    /** The span this unit continues (the caller's, or a stored one); null for a trace begun here. */
    public parentId: string | null,
    public flags: string,
    public state: string | null,
    /** The caller sent a valid traceparent. */
    readonly continued: boolean,
    /** A request: its upstream calls go in its log line (background work logs its own). */
    readonly logsHops: boolean,
    private id: string | null,
    private readonly exporter: Exporter | null = null,
    /** What the exporter needs to start the span lazily. */
    readonly start: { name: string; request: RequestStart | null } | null = null,
  ) {}

  /** Made on first use: a request that never names its span (no job, no export) draws no id for it. */
  get spanId(): string {
    if (this.id === null) this.id = this.exporter ? this.exporter.startSpan(this) : newSpanId()
    return this.id
  }

  noteHop(h: HopRecord) {
    if (this.hops) this.hops.push(h)
    else this.hops = [h]
  }

  /** Whether this unit's span id is fixed (sent on a hop, stored with a job). */
  get started(): boolean {
    return this.id !== null
  }

  /** `traceparent` naming this unit's span (stored with a job so later work joins the trace). */
  get traceparent(): string {
    return formatTraceparent({ traceId: this.traceId, spanId: this.spanId, flags: this.flags })
  }

  /**
   * Joins a stored trace (a job's) when the caller sent none and nothing has gone out under
   * this one yet; otherwise the caller's trace stands.
   */
  adopt(stored: string | null, state: string | null): boolean {
    const parent = parseTraceparent(stored)
    if (!parent || this.continued || this.started) return false
    this.traceId = parent.traceId
    this.parentId = parent.spanId
    this.flags = parent.flags
    this.state = parseTracestate(state)
    return true
  }
}

/** The span half of tracing: absent when nothing is exported. */
export interface Exporter {
  /** Starts a unit's span (a request's server span, a background root) and returns its id. */
  startSpan(t: Trace): string
  endRequest(t: Trace, end: RequestEnd): void
  endBackground(t: Trace, error: string | null): void
  startHop(parent: Trace, info: HopInfo): HopSpan
  shutdown(): Promise<void>
}

const noEnd = () => {}

/**
 * Trace context for every unit of work, with spans exported when OpenTelemetry is configured.
 * Without an exporter it only makes ids and headers: no span objects, no context manager.
 */
export class Tracer {
  constructor(readonly exporter: Exporter | null) {}

  get exporting(): boolean {
    return this.exporter !== null
  }

  /**
   * A request's trace: the caller's continued under a new span, else a new trace. `start` (what
   * the server span records) is needed only while exporting.
   */
  request(traceparent: string | null, tracestate: string | null, start: RequestStart | null): Trace {
    const parent = parseTraceparent(traceparent)
    const ex = this.exporter
    const begin = ex && start ? { name: start.method, request: start } : null
    if (parent) {
      return new Trace(
        parent.traceId,
        parent.spanId,
        parent.flags,
        parseTracestate(tracestate),
        true,
        true,
        null,
        ex,
        begin,
      )
    }
    // Started here and recorded by nobody when nothing is exported: not sampled.
    return new Trace(newTraceId(), null, ex ? '01' : '00', null, false, true, null, ex, begin)
  }

  /** Work Switchboard starts on its own (a health sweep): a new trace, its span a root. */
  root(name: string): Trace {
    const ex = this.exporter
    return new Trace(newTraceId(), null, ex ? '01' : '00', null, false, false, null, ex, {
      name,
      request: null,
    })
  }

  /**
   * Work that continues a stored trace (a job's callback): its hops are children of the stored
   * span itself. Null when nothing valid was stored (a row from before traces were kept).
   */
  resume(traceparent: string | null, tracestate: string | null): Trace | null {
    const stored = parseTraceparent(traceparent)
    if (!stored) return null
    return new Trace(
      stored.traceId,
      null,
      stored.flags,
      parseTracestate(tracestate),
      true,
      false,
      stored.spanId,
    )
  }

  endRequest(t: Trace, end: RequestEnd) {
    this.exporter?.endRequest(t, end)
  }

  endBackground(t: Trace, error: string | null = null) {
    this.exporter?.endBackground(t, error)
  }

  /** One outbound call: the `traceparent` it carries (a new parent id under `t`) and its end. */
  hop(t: Trace, info: HopInfo): HopSpan {
    if (this.exporter) return this.exporter.startHop(t, info)
    return { traceparent: childTraceparent(t), end: noEnd }
  }

  async shutdown() {
    await this.exporter?.shutdown()
  }
}

/** The `traceparent` of a hop under `t` when no span records it: a new parent id, nothing else. */
export const childTraceparent = (t: Trace) => `00-${t.traceId}-${newSpanId()}-${t.flags}`

/** Ids only: nothing is exported. */
export const idsOnly = new Tracer(null)

/** The tracer for a config: the OpenTelemetry exporter is loaded only when export is configured. */
export async function createTracer(
  otel: OtelConfig | null,
  version: string,
  instanceId: string,
): Promise<Tracer> {
  if (!otel) return idsOnly
  const { OtelExporter } = await import('./otel')
  return new Tracer(new OtelExporter(otel, version, instanceId))
}
