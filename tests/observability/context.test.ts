import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'
import { Registry } from '../../src/lib/metrics'
import { parseKeyValues } from '../../src/lib/trace/config'
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  parseTracestate,
} from '../../src/lib/trace/context'
import { idsOnly } from '../../src/lib/trace/tracer'

const T = '4bf92f3577b34da6a3ce929d0e0e4736'
const S = '00f067aa0ba902b7'

describe('traceparent', () => {
  test('a valid one is read; flags keep the sampled and random bits', () => {
    expect(parseTraceparent(`00-${T}-${S}-01`)).toEqual({ traceId: T, spanId: S, flags: '01' })
    expect(parseTraceparent(` 00-${T}-${S}-00 `)).toEqual({ traceId: T, spanId: S, flags: '00' })
    expect(parseTraceparent(`00-${T}-${S}-ff`)?.flags).toBe('03')
    // A later version may carry more fields; what version 00 defines is read.
    expect(parseTraceparent(`cc-${T}-${S}-01-what-the-future-holds`)).toEqual({
      traceId: T,
      spanId: S,
      flags: '01',
    })
  })

  test('anything malformed is refused', () => {
    for (const bad of [
      null,
      '',
      'nonsense',
      `00-${T}-${S}`,
      `00-${T}-${S}-01-extra`,
      `ff-${T}-${S}-01`,
      `00-${'0'.repeat(32)}-${S}-01`,
      `00-${T}-${'0'.repeat(16)}-01`,
      `00-${T.toUpperCase()}-${S}-01`,
      `00-${T}x-${S}-01`,
      `0-${T}-${S}-01`,
      `00-${T}-${S}-1`,
      `00_${T}_${S}_01`,
    ])
      expect(parseTraceparent(bad)).toBeNull()
  })

  test('tracestate passes as it came when it is printable and within 512 characters', () => {
    expect(parseTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toBe(
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    )
    expect(parseTracestate('a'.repeat(513))).toBeNull()
    expect(parseTracestate('bad\u0001value')).toBeNull()
    expect(parseTracestate('  ')).toBeNull()
  })

  test('ids: lower-case hex of the right length, never all zero, not repeating', () => {
    const traces = new Set(Array.from({ length: 2000 }, newTraceId))
    const spans = new Set(Array.from({ length: 2000 }, newSpanId))
    expect(traces.size).toBe(2000)
    expect(spans.size).toBe(2000)
    for (const t of traces) expect(t).toMatch(/^[0-9a-f]{32}$/)
    for (const s of spans) expect(s).toMatch(/^[0-9a-f]{16}$/)
    expect(formatTraceparent({ traceId: T, spanId: S, flags: '01' })).toBe(`00-${T}-${S}-01`)
  })
})

describe('the trace of a request, without an exporter', () => {
  const start = { method: 'GET', url: 'http://localhost/', userAgent: null, startedAt: 0 }

  test('continued: the caller’s trace, a span of its own, hops under new parents', () => {
    const t = idsOnly.request(`00-${T}-${S}-01`, 'k=v', start)
    expect(t).toMatchObject({ traceId: T, parentId: S, flags: '01', state: 'k=v', continued: true })
    expect(t.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(t.spanId).not.toBe(S)
    const a = idsOnly.hop(t, hopInfo).traceparent
    const b = idsOnly.hop(t, hopInfo).traceparent
    expect(a.slice(0, 36)).toBe(`00-${T}-`)
    expect(a).not.toBe(b)
  })

  test('a trace begun here is not sampled; it adopts a stored trace until its caller sent one', () => {
    const t = idsOnly.request(null, 'ignored=1', start)
    expect(t).toMatchObject({ parentId: null, flags: '00', state: null, continued: false })
    expect(t.adopt(`00-${T}-${S}-01`, 'k=v')).toBe(true)
    expect(t).toMatchObject({ traceId: T, parentId: S, flags: '01', state: 'k=v' })
    const caller = idsOnly.request(`00-${'a'.repeat(32)}-${S}-01`, null, start)
    expect(caller.adopt(`00-${T}-${S}-01`, null)).toBe(false)
    expect(caller.traceId).toBe('a'.repeat(32))
    expect(idsOnly.request(null, null, start).adopt('garbage', null)).toBe(false)
  })

  test('resumed from a stored traceparent: hops are children of the stored span', () => {
    const t = idsOnly.resume(`00-${T}-${S}-01`, null)!
    expect(t.spanId).toBe(S)
    expect(idsOnly.resume(null, null)).toBeNull()
  })
})

const hopInfo = {
  lane: 'sync',
  protocol: null,
  method: 'POST',
  url: 'http://x/',
  originOnly: false,
  agent: null,
  genAi: undefined,
}

describe('OTEL_* settings', () => {
  const base = { SWITCHBOARD_MASTER_KEY: 'a'.repeat(64) }

  test('unset: nothing is exported', () => {
    expect(loadConfig(base).otel).toBeNull()
    expect(loadConfig({ ...base, OTEL_SERVICE_NAME: 'x' }).otel).toBeNull()
  })

  test('the base endpoint gets /v1/traces; the traces endpoint is taken as it is; the spec defaults', () => {
    const c = loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).otel!
    expect(c).toMatchObject({
      tracesUrl: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      timeoutMs: 10_000,
      compression: 'none',
      serviceName: 'switchboard',
      sampler: 'parentbased_always_on',
      batch: { scheduledDelayMs: 5000, exportTimeoutMs: 30_000, maxQueueSize: 2048, maxExportBatchSize: 512 },
    })
    const t = loadConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/ingest',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20def,x=1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x=2',
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).otel!
    expect(t).toMatchObject({
      tracesUrl: 'https://traces.example.com/ingest',
      protocol: 'http/json',
      headers: { 'api-key': 'abc def', x: '2' },
      timeoutMs: 3000,
      serviceName: 'from-attrs',
      resourceAttributes: { 'deployment.environment': 'prod' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    })
  })

  test('turned off by OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    const on = { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }
    expect(loadConfig({ ...on, OTEL_SDK_DISABLED: 'true' }).otel).toBeNull()
    expect(loadConfig({ ...on, OTEL_SDK_DISABLED: 'false' }).otel).not.toBeNull()
    expect(loadConfig({ ...on, OTEL_TRACES_EXPORTER: 'none' }).otel).toBeNull()
  })

  test('what cannot work stops start-up with the variable named', () => {
    const on = { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }
    for (const [k, v] of [
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'not a url'],
      ['OTEL_EXPORTER_OTLP_HEADERS', 'novalue'],
      ['OTEL_TRACES_SAMPLER', 'sometimes'],
      ['OTEL_TRACES_SAMPLER_ARG', '2'],
      ['OTEL_TRACES_EXPORTER', 'zipkin'],
    ] as const) {
      expect(() => loadConfig({ ...on, [k]: v })).toThrow(ConfigError)
      expect(() => loadConfig({ ...on, [k]: v })).toThrow(k)
    }
    expect(parseKeyValues('a=1,,b=%ZZ')).toBeNull()
  })
})

describe('the registry', () => {
  test('a name registered twice keeps its counts; a gauge takes the newer reader', () => {
    const r = new Registry()
    r.counter('x_total', 'x').inc({ a: '1' })
    r.counter('x_total', 'x').inc({ a: '1' })
    r.gauge('g', 'g', () => [[{}, 1]])
    r.gauge('g', 'g', () => [[{}, 2]])
    const text = r.render()
    expect(text).toContain('x_total{a="1"} 2')
    expect(text).toContain('\ng 2\n')
    expect(text.match(/# TYPE g gauge/g)).toHaveLength(1)
  })

  test('histogram buckets are cumulative; help and label values are escaped', () => {
    const r = new Registry()
    const h = r.histogram('d_seconds', 'line one\nline two \\ end', [0.1, 1])
    h.observe({ path: 'a"b\\c\nd' }, 0.05)
    h.observe({ path: 'a"b\\c\nd' }, 0.5)
    h.observe({ path: 'a"b\\c\nd' }, 5)
    const text = r.render()
    expect(text).toContain('# HELP d_seconds line one\\nline two \\\\ end')
    expect(text).toContain('d_seconds_bucket{path="a\\"b\\\\c\\nd",le="0.1"} 1')
    expect(text).toContain('d_seconds_bucket{path="a\\"b\\\\c\\nd",le="1"} 2')
    expect(text).toContain('d_seconds_bucket{path="a\\"b\\\\c\\nd",le="+Inf"} 3')
    expect(text).toContain('d_seconds_count{path="a\\"b\\\\c\\nd"} 3')
  })
})
