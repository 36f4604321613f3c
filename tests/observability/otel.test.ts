import { describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { LANE_HEADERS } from '../../src/modules/forward/headers'
import { checkEndpoint } from '../../src/modules/health/check'
import { liveServer } from '../helpers'
import { connected, settled, waitFor } from '../jobs/fixtures'
import { CALLER_SPAN, parts, recorder, TRACE_ID, TRACEPARENT } from './fixtures'
import { otlpReceiver, type ReceivedSpan } from './otlp'

/**
 * OpenTelemetry export over OTLP/HTTP (http/json here; the compiled binary's test uses the
 * default http/protobuf) to a local receiver: a server span per request, a client span per hop
 * with the HTTP conventions, and the parent links that make one trace of a call and its job.
 */
const receiver = otlpReceiver()
const sb = await liveServer({
  env: {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k3y',
    OTEL_SERVICE_NAME: 'switchboard-test',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  },
})
const ws = await sb.workspace()
const agent = recorder()
const hooks = recorder()

const SERVER = 2
const CLIENT = 3
const INTERNAL = 1

/** Waits until the receiver holds a span matching `pick`. */
const spanWhere = (what: string, pick: (s: ReceivedSpan) => boolean) =>
  waitFor(async () => receiver.spans.find(pick), what)

describe('OpenTelemetry export', () => {
  test('sync: the server span continues the caller’s, the hop is its child and is what the agent sees', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/otel-sync?key=secret-q`,
    })
    const res = await sb.call('POST', `/api/proxy/${conn.id}`, {
      token: caller.token,
      raw: '{}',
      headers: { traceparent: TRACEPARENT, 'user-agent': 'otel-test/1' },
    })
    expect(res.status).toBe(200)
    const server = await spanWhere('the server span', (s) => s.kind === SERVER && s.traceId === TRACE_ID)
    expect(server).toMatchObject({
      parentSpanId: CALLER_SPAN,
      name: 'POST /api/proxy/:connectionId',
      service: 'switchboard-test',
      statusCode: 0,
    })
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/proxy/:connectionId',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'user_agent.original': 'otel-test/1',
      'client.address': '127.0.0.1',
    })
    expect(server.attributes['url.path']).toBe(`/api/proxy/${conn.id}`)
    const client = await spanWhere('the hop', (s) => s.kind === CLIENT && s.parentSpanId === server.spanId)
    const sent = parts(agent.at('/otel-sync')[0]!.headers.traceparent)
    expect(sent).toEqual({ traceId: TRACE_ID, spanId: client.spanId, flags: '01' })
    expect(client.name).toBe('POST')
    expect(client.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(agent.url).port),
      'url.full': `${agent.url}/otel-sync?key=REDACTED`,
      'switchboard.lane': 'sync',
      'switchboard.agent.permanent_id': target.agent.permanentId,
    })
    expect(receiver.exports[0]!.contentType).toBe('application/json')
    expect(receiver.exports[0]!.headers['x-collector-key']).toBe('k3y')
  })

  test('a trace begun here is sampled and exported; a 502 is an error span, the failed hop too', async () => {
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const deadUrl = `http://127.0.0.1:${dead.port}/`
    dead.stop(true)
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: deadUrl })
    const res = await sb.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: '{}' })
    expect(res.status).toBe(502)
    const server = await spanWhere(
      'the 502',
      (s) =>
        s.kind === SERVER &&
        s.attributes['http.response.status_code'] === 502 &&
        s.attributes['url.path'] === `/api/proxy/${conn.id}`,
    )
    expect(server.parentSpanId).toBe('')
    expect(server.statusCode).toBe(2)
    expect(server.attributes['error.type']).toBe('bad_gateway')
    const hop = await spanWhere('the failed hop', (s) => s.parentSpanId === server.spanId)
    expect(hop).toMatchObject({ kind: CLIENT, statusCode: 2 })
    expect(hop.attributes['error.type']).toBe('network')
  })

  test('async: the delivery and every callback attempt are children of the call; the report joins it', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/accept-otel`,
    })
    const res = await sb.call('POST', `/api/proxy/${conn.id}/async`, {
      token: caller.token,
      body: { _switchboard: { callback_url: `${hooks.url}/hook/s3cret-path` } },
      headers: { traceparent: `00-${'c'.repeat(32)}-${CALLER_SPAN}-01` },
    })
    expect(res.status).toBe(202)
    const trace = 'c'.repeat(32)
    const call = await spanWhere('the async call', (s) => s.kind === SERVER && s.traceId === trace)
    expect(call.name).toBe('POST /api/proxy/:connectionId/async')
    const delivery = await spanWhere(
      'the delivery',
      (s) => s.parentSpanId === call.spanId && s.attributes['switchboard.lane'] === 'async',
    )
    expect(parts(agent.at('/accept-otel')[0]!.headers.traceparent).spanId).toBe(delivery.spanId)

    const report = await sb.call('POST', `/api/jobs/${res.body.jobId}/status`, {
      token: target.token,
      body: { status: 'completed', result: 1 },
    })
    expect(report.status).toBe(200)
    const reportSpan = await spanWhere(
      'the report',
      (s) => s.kind === SERVER && s.name === 'POST /api/jobs/:jobId/status' && s.traceId === trace,
    )
    expect(reportSpan.parentSpanId).toBe(call.spanId)
    await settled(sb.call, caller.token, res.body.jobId)
    const callback = await spanWhere(
      'the callback',
      (s) => s.attributes['switchboard.lane'] === 'callback' && s.traceId === trace,
    )
    expect(callback.parentSpanId).toBe(call.spanId)
    expect(callback.attributes['url.full']).toBe(`${hooks.url}/REDACTED`)
    expect(parts(hooks.at('/hook/s3cret-path')[0]!.headers.traceparent).spanId).toBe(callback.spanId)
    expect(JSON.stringify(receiver.spans)).not.toContain('s3cret')
  })

  test('a health sweep is a root span with a client span per check', async () => {
    const trace = sb.deps.tracer.root('health sweep')
    await checkEndpoint(sb.deps.forward, `${agent.url}/otel-health`, { timeoutMs: 2000, trace })
    sb.deps.tracer.endBackground(trace)
    const root = await spanWhere('the sweep', (s) => s.name === 'health sweep')
    expect(root).toMatchObject({ kind: INTERNAL, parentSpanId: '', traceId: trace.traceId })
    const check = await spanWhere('the check', (s) => s.parentSpanId === root.spanId)
    expect(check.attributes).toMatchObject({ 'switchboard.lane': 'health', 'http.request.method': 'GET' })
  })

  test('a hop that names a model (the relays’ hook) gets the GenAI conventions', async () => {
    const trace = sb.deps.tracer.root('relay test')
    const sent = await sb.deps.forward.send(
      { url: `${agent.url}/v1/chat/completions`, credential: null },
      { method: 'POST', headers: new Headers(), body: '{}' },
      {
        lane: 'relay',
        protocol: 'openai',
        trace,
        genAi: { operation: 'chat', model: 'gpt-test-1' },
        rules: LANE_HEADERS.request,
        timeoutMs: 2000,
      },
    )
    expect(sent.ok).toBe(true)
    sb.deps.tracer.endBackground(trace)
    const span = await spanWhere('the model call', (s) => s.name === 'chat gpt-test-1')
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-test-1',
      'gen_ai.provider.name': 'openai',
      'switchboard.lane': 'relay',
      'switchboard.protocol': 'openai',
    })
  })

  test('the OpenAI relay: a chat call is a GenAI span named for its model, under the relay’s server span', async () => {
    const reg = await sb.call('POST', '/api/agents', {
      token: ws.key,
      body: {
        name: 'llm',
        endpointUrl: `${agent.url}/elsewhere`,
        externalInvocation: true,
        protocols: { openai: { enabled: true, url: `${agent.url}/llm` } },
      },
    })
    expect(reg.status).toBe(201)
    const client = new OpenAI({
      baseURL: `${sb.url}/relay/${reg.body.agent.permanentId}/openai/v1`,
      apiKey: 'sk-client-key-never-exported',
      maxRetries: 0,
      defaultHeaders: { traceparent: `00-${'d'.repeat(32)}-${CALLER_SPAN}-01` },
    })
    await client.embeddings.create({ model: 'embed-small-1', input: 'hello' }).catch(() => {})
    const server = await spanWhere('the relay call', (s) => s.kind === SERVER && s.traceId === 'd'.repeat(32))
    expect(server.name).toBe('POST /relay/:permanentId/openai/*')
    const hop = await spanWhere('the model call', (s) => s.parentSpanId === server.spanId)
    expect(hop.name).toBe('embeddings embed-small-1')
    expect(hop.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.request.model': 'embed-small-1',
      'gen_ai.provider.name': 'openai',
      'switchboard.lane': 'relay',
      'switchboard.protocol': 'openai',
      'url.full': `${agent.url}/llm/v1/embeddings`,
    })
    expect(parts(agent.at('/llm/v1/embeddings')[0]!.headers.traceparent).spanId).toBe(hop.spanId)
    expect(JSON.stringify(receiver.spans)).not.toContain('sk-client-key')
  })

  test('no credential, token or key is an attribute', () => {
    const all = JSON.stringify(receiver.spans)
    expect(all).not.toContain(ws.key)
    expect(all).not.toContain('secret-q')
    expect(all).not.toMatch(/tk_[0-9A-Za-z]{20,}/)
  })
})
