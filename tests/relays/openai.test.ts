import { describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { liveServer, upstream } from '../helpers'

/**
 * The OpenAI-compatible relay with the official `openai` client against a local
 * OpenAI-compatible upstream: chat completions plain and streamed, models, the Responses API
 * streamed, an upstream 429 seen by the client as a rate-limit error with its Retry-After.
 */
const sb = await liveServer()
const ws = await sb.workspace()
const enc = new TextEncoder()

type Seen = { method: string; path: string; headers: Record<string, string>; body: string }
const seen: Seen[] = []
/** When the upstream wrote each streamed chunk (this process's clock). */
let sentAt: number[] = []

const sse = (events: string[], gapMs: number) =>
  new Response(
    new ReadableStream({
      async start(c) {
        sentAt = []
        for (const [i, e] of events.entries()) {
          if (i > 0) await Bun.sleep(gapMs)
          sentAt.push(performance.now())
          c.enqueue(enc.encode(e))
        }
        c.close()
      },
    }),
    { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } },
  )

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-test',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`

const agentApi = upstream(async (req) => {
  const url = new URL(req.url)
  const body = await req.text()
  seen.push({
    method: req.method,
    path: url.pathname + url.search,
    headers: Object.fromEntries(req.headers),
    body,
  })
  const json = body ? JSON.parse(body) : {}
  if (url.pathname === '/v1/models') {
    return Response.json({
      object: 'list',
      data: [{ id: 'gpt-test', object: 'model', created: 1, owned_by: 'agent' }],
    })
  }
  if (url.pathname === '/v1/chat/completions') {
    if (json.model === 'busy') {
      return Response.json(
        { error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' } },
        {
          status: 429,
          headers: {
            'retry-after': '7',
            'x-ratelimit-remaining-requests': '0',
            'x-ratelimit-limit-requests': '60',
          },
        },
      )
    }
    if (json.stream)
      return sse(
        [chunk('one '), chunk('two '), chunk('three '), chunk('four', 'stop'), 'data: [DONE]\n\n'],
        150,
      )
    return Response.json(
      {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: json.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: `echo: ${json.messages.at(-1).content}` },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
      },
      { headers: { 'x-ratelimit-remaining-requests': '59', 'set-cookie': 'upstream=1' } },
    )
  }
  if (url.pathname === '/v1/responses' && json.stream) {
    const ev = (type: string, data: Record<string, unknown>) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
    const response = {
      id: 'resp_1',
      object: 'response',
      status: 'in_progress',
      model: 'gpt-test',
      output: [],
    }
    return sse(
      [
        ev('response.created', { response, sequence_number: 0 }),
        ev('response.output_text.delta', {
          item_id: 'msg_1',
          output_index: 0,
          content_index: 0,
          delta: 'Hel',
          sequence_number: 1,
        }),
        ev('response.output_text.delta', {
          item_id: 'msg_1',
          output_index: 0,
          content_index: 0,
          delta: 'lo',
          sequence_number: 2,
        }),
        ev('response.completed', { response: { ...response, status: 'completed' }, sequence_number: 3 }),
      ],
      150,
    )
  }
  return Response.json({ error: { message: 'no such route' } }, { status: 404 })
})

const reg = await sb.call('POST', '/api/agents', {
  token: ws.key,
  body: {
    name: 'llm',
    endpointUrl: `${agentApi.url}/elsewhere`,
    endpointCredential: 'sk-agent-upstream-key',
    externalInvocation: true,
    protocols: { openai: { enabled: true, url: agentApi.url } },
  },
})
expect(reg.status).toBe(201)
const pid = reg.body.agent.permanentId as string
const client = new OpenAI({
  baseURL: `${sb.url}/relay/${pid}/openai/v1`,
  apiKey: 'sk-client-key-that-must-stay',
  maxRetries: 0,
  defaultHeaders: { cookie: 'client-session=1' },
})
const last = () => seen.at(-1)!

describe('OpenAI relay, with the openai client', () => {
  test('a chat completion reaches <openai url>/v1/chat/completions with the endpoint credential, not the client’s', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(res.choices[0]!.message.content).toBe('echo: hi')
    expect(last().path).toBe('/v1/chat/completions')
    expect(last().headers.authorization).toBe('Bearer sk-agent-upstream-key')
    expect(last().headers.cookie).toBeUndefined()
    expect(JSON.stringify(last().headers)).not.toContain('sk-client-key')
    // The SDK's own headers pass as they are.
    expect(last().headers['x-stainless-lang']).toBe('js')
  })

  test('the upstream’s rate-limit headers come back; its Set-Cookie does not', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse()
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('59')
    expect(response.headers.get('set-cookie')).toBeNull()
  })

  test('models', async () => {
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toEqual(['gpt-test'])
    expect(last()).toMatchObject({ method: 'GET', path: '/v1/models' })
  })

  test('a streamed chat completion arrives chunk by chunk, each before the upstream sent the next', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
    })
    const parts: string[] = []
    const arrivedAt: number[] = []
    for await (const c of stream) {
      arrivedAt.push(performance.now())
      parts.push(c.choices[0]?.delta.content ?? '')
    }
    expect(parts.join('')).toBe('one two three four')
    expect(arrivedAt).toHaveLength(4)
    // Not buffered: chunk i was in the client's hands before the upstream wrote chunk i+1.
    for (let i = 0; i + 1 < arrivedAt.length; i++) expect(arrivedAt[i]!).toBeLessThan(sentAt[i + 1]!)
    // And they arrived spread out as they were sent (3 gaps of 150 ms; a generous floor).
    expect(arrivedAt.at(-1)! - arrivedAt[0]!).toBeGreaterThan(250)
  })

  test('the Responses API, streamed', async () => {
    const stream = await client.responses.create({ model: 'gpt-test', input: 'hello', stream: true })
    const types: string[] = []
    let text = ''
    const arrivedAt: number[] = []
    for await (const e of stream) {
      arrivedAt.push(performance.now())
      types.push(e.type)
      if (e.type === 'response.output_text.delta') text += e.delta
    }
    expect(types).toEqual([
      'response.created',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.completed',
    ])
    expect(text).toBe('Hello')
    for (let i = 0; i + 1 < arrivedAt.length; i++) expect(arrivedAt[i]!).toBeLessThan(sentAt[i + 1]!)
    expect(last().path).toBe('/v1/responses')
  })

  test('an upstream 429 is a RateLimitError with the upstream’s Retry-After and rate-limit headers', async () => {
    const err = await client.chat.completions
      .create({ model: 'busy', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    const e = err as InstanceType<typeof OpenAI.RateLimitError>
    expect(e.status).toBe(429)
    expect(e.headers?.get('retry-after')).toBe('7')
    expect(e.headers?.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(e.message).toContain('slow down')
  })
})
