import { z } from 'zod'

/**
 * The standard OpenTelemetry variables Switchboard honours (the OTLP exporter and SDK
 * specifications' names and defaults), parsed with the rest of the config. Export is on when
 * an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the traces-only
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none`. Only OTLP over HTTP is offered (http/protobuf, the default, or
 * http/json); gRPC is refused at start rather than silently ignored.
 */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional())
const positiveInt = optional(z.coerce.number().int().min(1).max(3_600_000))
const url = optional(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }))
const protocol = optional(
  z.enum(['http/protobuf', 'http/json', 'grpc']).refine((v) => v !== 'grpc', {
    message: 'grpc is not supported; use http/protobuf or http/json (OTLP over HTTP)',
  }),
)
const compression = optional(z.enum(['gzip', 'none']))
/** `key=value,key2=value2` with URL-encoded values (the W3C Baggage list format the spec uses). */
const keyValues = optional(
  z
    .string()
    .refine((v) => parseKeyValues(v) !== null, { message: 'expected key=value pairs separated by commas' }),
)
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const

export const OTEL_SETTINGS = {
  OTEL_SDK_DISABLED: optional(z.string().transform((v) => v.trim().toLowerCase() === 'true')),
  OTEL_TRACES_EXPORTER: optional(
    z
      .string()
      .transform((v) => v.trim().toLowerCase())
      .refine((v) => v === 'otlp' || v === 'none', { message: 'expected otlp or none' }),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_HEADERS: keyValues,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: keyValues,
  OTEL_EXPORTER_OTLP_TIMEOUT: positiveInt,
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: positiveInt,
  OTEL_EXPORTER_OTLP_COMPRESSION: compression,
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: compression,
  OTEL_SERVICE_NAME: optional(z.string().min(1).max(256)),
  OTEL_RESOURCE_ATTRIBUTES: keyValues,
  OTEL_TRACES_SAMPLER: optional(z.enum(SAMPLERS)),
  OTEL_TRACES_SAMPLER_ARG: optional(z.coerce.number().min(0).max(1)),
  OTEL_BSP_SCHEDULE_DELAY: positiveInt,
  OTEL_BSP_EXPORT_TIMEOUT: positiveInt,
  OTEL_BSP_MAX_QUEUE_SIZE: optional(z.coerce.number().int().min(1).max(1_000_000)),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: optional(z.coerce.number().int().min(1).max(1_000_000)),
}

type Parsed = { [K in keyof typeof OTEL_SETTINGS]?: z.output<(typeof OTEL_SETTINGS)[K]> }

export type OtelConfig = {
  /** Where spans go: the traces endpoint as given, else the base endpoint + /v1/traces. */
  tracesUrl: string
  protocol: 'http/protobuf' | 'http/json'
  /** Sent with every export (an API key for a hosted backend); never logged. */
  headers: Record<string, string>
  timeoutMs: number
  compression: 'gzip' | 'none'
  serviceName: string
  resourceAttributes: Record<string, string>
  sampler: (typeof SAMPLERS)[number]
  /** The ratio for the traceidratio samplers. */
  samplerRatio: number
  batch: {
    scheduledDelayMs: number
    exportTimeoutMs: number
    maxQueueSize: number
    maxExportBatchSize: number
  }
}

/** The export settings, or null when nothing is to be exported. */
export function otelConfig(e: Parsed): OtelConfig | null {
  if (e.OTEL_SDK_DISABLED === true || e.OTEL_TRACES_EXPORTER === 'none') return null
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT
  const tracesUrl =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : null)
  if (!tracesUrl) return null
  const resourceAttributes = parseKeyValues(e.OTEL_RESOURCE_ATTRIBUTES ?? '') ?? {}
  const batch = {
    scheduledDelayMs: e.OTEL_BSP_SCHEDULE_DELAY ?? 5000,
    exportTimeoutMs: e.OTEL_BSP_EXPORT_TIMEOUT ?? 30_000,
    maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE ?? 2048,
    maxExportBatchSize: e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ?? 512,
  }
  batch.maxExportBatchSize = Math.min(batch.maxExportBatchSize, batch.maxQueueSize)
  return {
    tracesUrl,
    protocol: (e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf') as
      | 'http/protobuf'
      | 'http/json',
    headers: {
      ...parseKeyValues(e.OTEL_EXPORTER_OTLP_HEADERS ?? ''),
      ...parseKeyValues(e.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? ''),
    },
    timeoutMs: e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? e.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000,
    compression: e.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION ?? e.OTEL_EXPORTER_OTLP_COMPRESSION ?? 'none',
    // OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES (the spec's order).
    serviceName: e.OTEL_SERVICE_NAME ?? resourceAttributes['service.name'] ?? 'switchboard',
    resourceAttributes,
    sampler: e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
    batch,
  }
}

/** `a=1,b=x%20y` → {a: '1', b: 'x y'}; null when a member is malformed. */
export function parseKeyValues(raw: string): Record<string, string> | null {
  const out: Record<string, string> = {}
  for (const member of raw.split(',')) {
    const m = member.trim()
    if (m === '') continue
    const eq = m.indexOf('=')
    if (eq <= 0) return null
    try {
      out[decodeURIComponent(m.slice(0, eq).trim())] = decodeURIComponent(m.slice(eq + 1).trim())
    } catch {
      return null
    }
  }
  return out
}
