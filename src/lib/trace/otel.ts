import {
  type Attributes,
  type Context,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions'
import type { OtelConfig } from './config'
import { formatTraceparent, newSpanId, newTraceId } from './context'
import type { Exporter, HopEnd, HopInfo, HopSpan, RequestEnd, Trace } from './tracer'

// The GenAI conventions are still incubating: the spec asks users to copy the names, not import them.
const GEN_AI_OPERATION = 'gen_ai.operation.name'
const GEN_AI_MODEL = 'gen_ai.request.model'
const GEN_AI_PROVIDER = 'gen_ai.provider.name'

/**
 * Spans over OTLP/HTTP with the official SDK, loaded only when an endpoint is configured. It
 * uses its own tracer provider and passes every parent explicitly: no global provider (a
 * library that traces through the global API, drizzle among them, stays silent) and no
 * context manager.
 */
export class OtelExporter implements Exporter {
  private readonly provider: TracerProvider
  private readonly tracer
  private readonly ids = new KnownIds()

  constructor(config: OtelConfig, version: string, instanceId: string) {
    const Exporter = config.protocol === 'http/json' ? JsonExporter : ProtobufExporter
    const exporter = new Exporter({
      url: config.tracesUrl,
      headers: config.headers,
      timeoutMillis: config.timeoutMs,
      compression: config.compression === 'gzip' ? ('gzip' as never) : ('none' as never),
    })
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({
        ...config.resourceAttributes,
        [ATTR_SERVICE_NAME]: config.serviceName,
        [ATTR_SERVICE_VERSION]: version,
        'service.instance.id': instanceId,
      }),
      sampler: samplerFor(config),
      idGenerator: this.ids,
      spanProcessors: [
        new BatchSpanProcessor({
          exporter,
          scheduledDelayMillis: config.batch.scheduledDelayMs,
          exportTimeoutMillis: config.batch.exportTimeoutMs,
          maxQueueSize: config.batch.maxQueueSize,
          maxExportBatchSize: config.batch.maxExportBatchSize,
        }),
      ],
    })
    this.tracer = this.provider.getTracer('switchboard', version)
  }

  startSpan(t: Trace): string {
    const start = t.start
    const request = start?.request ?? null
    const attributes: Attributes = request
      ? {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          ...urlParts(request.url),
          ...(request.userAgent ? { [ATTR_USER_AGENT_ORIGINAL]: request.userAgent } : {}),
        }
      : {}
    // A trace begun here keeps the id its log lines already carry.
    if (!t.parentId) this.ids.next = t.traceId
    const span = this.tracer.startSpan(
      start?.name ?? 'work',
      {
        kind: request ? SpanKind.SERVER : SpanKind.INTERNAL,
        attributes,
        ...(request ? { startTime: request.startedAt } : {}),
      },
      parentContext(t, t.parentId),
    )
    t.span = span
    const ctx = span.spanContext()
    // The sampler may have decided otherwise than the caller's flag; hops say what was decided.
    t.traceId = ctx.traceId
    t.flags = ctx.traceFlags & 1 ? '01' : '00'
    return ctx.spanId
  }

  endRequest(t: Trace, end: RequestEnd) {
    void t.spanId // a request that made no hop starts its span only now
    const span = t.span as Span
    span.updateName(`${(t.start?.request?.method ?? 'GET').toUpperCase()} ${end.route}`)
    span.setAttribute(ATTR_HTTP_ROUTE, end.route)
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, end.status)
    if (end.clientIp) span.setAttribute(ATTR_CLIENT_ADDRESS, end.clientIp)
    if (end.errorCode) span.setAttribute('switchboard.error.code', end.errorCode)
    // A server span is an error only for a 5xx: a 4xx is the caller's (the HTTP conventions).
    if (end.status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, end.errorCode ?? String(end.status))
      span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end()
  }

  endBackground(t: Trace, error: string | null) {
    if (!t.started) return
    const span = t.span as Span | null
    if (!span) return
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error })
    span.end()
  }

  startHop(parent: Trace, info: HopInfo): HopSpan {
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: info.method,
      ...clientUrlParts(info.url, info.originOnly),
      'switchboard.lane': info.lane,
    }
    if (info.protocol) attributes['switchboard.protocol'] = info.protocol
    if (info.agent) {
      attributes['switchboard.agent.permanent_id'] = info.agent.permanentId
      attributes['switchboard.agent.id'] = info.agent.id
      attributes['switchboard.workspace.id'] = info.agent.workspaceId
    }
    let name = info.method
    if (info.genAi) {
      attributes[GEN_AI_OPERATION] = info.genAi.operation
      attributes[GEN_AI_MODEL] = info.genAi.model
      attributes[GEN_AI_PROVIDER] = info.genAi.provider ?? 'openai'
      name = `${info.genAi.operation} ${info.genAi.model}`
    }
    // A resumed trace has no span object of its own: its stored span is the parent.
    const ctx = parent.span
      ? trace.setSpan(ROOT_CONTEXT, parent.span as Span)
      : parentContext(parent, parent.spanId)
    const span = this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, ctx)
    const sc = span.spanContext()
    return {
      traceparent: formatTraceparent({
        traceId: sc.traceId,
        spanId: sc.spanId,
        flags: sc.traceFlags & 1 ? '01' : '00',
      }),
      end: (r: HopEnd) => endHop(span, r),
    }
  }

  async shutdown() {
    await this.provider.shutdown().catch(() => {})
  }
}

/** Our ids (the same generator as without export), and for a root span the trace id already chosen. */
class KnownIds {
  next: string | null = null
  generateTraceId(): string {
    const id = this.next ?? newTraceId()
    this.next = null
    return id
  }
  generateSpanId(): string {
    return newSpanId()
  }
}

function endHop(span: Span, r: HopEnd) {
  if (r.status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, r.status)
  // A client span is an error for any 4xx or 5xx, and for a call that got no answer.
  const error = r.failure ?? (r.status !== null && r.status >= 400 ? String(r.status) : null)
  if (error) {
    span.setAttribute(ATTR_ERROR_TYPE, error)
    span.setStatus({ code: SpanStatusCode.ERROR })
  }
  span.end()
}

/** The remote parent a unit continues, as an API context; the root context when there is none. */
function parentContext(t: Trace, parentId: string | null): Context {
  if (!parentId) return ROOT_CONTEXT
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: t.traceId,
    spanId: parentId,
    traceFlags: Number.parseInt(t.flags, 16) & 1,
    isRemote: true,
    ...(t.state ? { traceState: createTraceState(t.state) } : {}),
  })
}

/** The server side: scheme and path, never the query (a stream's `?token=` lives there). */
function urlParts(raw: string): Attributes {
  try {
    const u = new URL(raw)
    return { [ATTR_URL_SCHEME]: u.protocol.replace(/:$/, ''), [ATTR_URL_PATH]: u.pathname }
  } catch {
    return {}
  }
}

/**
 * The client side: `url.full` without credentials, query values replaced by REDACTED (the HTTP
 * conventions' rule), and for an address that may hide a secret in its path only the origin.
 */
function clientUrlParts(raw: string, originOnly: boolean): Attributes {
  try {
    const u = new URL(raw)
    u.username = ''
    u.password = ''
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80
    let full: string
    if (originOnly) full = `${u.origin}/REDACTED`
    else {
      for (const k of new Set(u.searchParams.keys())) u.searchParams.set(k, 'REDACTED')
      full = u.toString()
    }
    return { [ATTR_URL_FULL]: full, [ATTR_SERVER_ADDRESS]: u.hostname, [ATTR_SERVER_PORT]: port }
  } catch {
    return {}
  }
}

function samplerFor(c: OtelConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(c.samplerRatio)
  switch (c.sampler) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return ratio
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio })
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}
