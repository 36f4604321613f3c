import { afterAll, describe, expect, test } from 'bun:test'
import type { AddressInfo } from 'node:net'
import { type AgentCard, type Message, Role, type StreamResponse, TaskState } from '@a2a-js/sdk'
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from '@a2a-js/sdk/client'
import { duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3'
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBus,
  InMemoryTaskStore,
  type RequestContext,
} from '@a2a-js/sdk/server'
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express'
import express from 'express'
import { liveServer, upstream } from '../helpers'

/**
 * The A2A relay with `@a2a-js/sdk` at both ends: a current (1.0) client, and its 0.3
 * compatibility client, against agents built with the SDK's server (JSON-RPC with its v0.3
 * layer on): the card at both paths, send, stream; a card composed for an agent that serves none.
 */
const sb = await liveServer()
const ws = await sb.workspace()

type Seen = { path: string; method: string; rpc: string | null; headers: Record<string, string> }

/** An echo agent: task → working → artifact → completed, 150 ms apart, each publish timed. */
class EchoExecutor implements AgentExecutor {
  sentAt: number[] = []
  async execute(ctx: RequestContext, bus: ExecutionEventBus) {
    const { taskId, contextId, userMessage } = ctx
    const text = userMessage.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('')
    const publish = async (e: Parameters<ExecutionEventBus['publish']>[0]) => {
      if (this.sentAt.length > 0) await Bun.sleep(150)
      this.sentAt.push(performance.now())
      bus.publish(e)
    }
    this.sentAt = []
    const status = (state: TaskState) => ({ state, timestamp: new Date().toISOString(), message: undefined })
    await publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: status(TaskState.TASK_STATE_SUBMITTED),
        artifacts: [],
        history: [userMessage],
        metadata: {},
      }),
    )
    await publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: status(TaskState.TASK_STATE_WORKING),
        metadata: {},
      }),
    )
    await publish(
      AgentEvent.artifactUpdate({
        taskId,
        contextId,
        artifact: {
          artifactId: 'a1',
          name: 'echo',
          description: '',
          parts: [
            {
              content: { $case: 'text', value: `echo: ${text}` },
              metadata: undefined,
              filename: '',
              mediaType: 'text/plain',
            },
          ],
          metadata: undefined,
          extensions: [],
        },
        lastChunk: true,
        append: false,
        metadata: undefined,
      }),
    )
    await publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: status(TaskState.TASK_STATE_COMPLETED),
        metadata: {},
      }),
    )
    bus.finished()
  }
  async cancelTask() {}
}

/**
 * An agent built with the SDK: JSON-RPC at /a2a/jsonrpc (v0.3 layer on), its card at the
 * origin's /.well-known/agent-card.json (so the relay's first try, under the A2A URL, misses).
 */
async function sdkAgent(opts: { versions: ('1.0' | '0.3')[]; card: boolean }) {
  const seen: Seen[] = []
  const app = express()
  app.use((req, _res, next) => {
    seen.push({
      path: req.path,
      method: req.method,
      rpc: null,
      headers: req.headers as Record<string, string>,
    })
    next()
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((r) => server.once('listening', () => r()))
  afterAll(() => new Promise<void>((r) => server.close(() => r())))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const jsonrpc = `${origin}/a2a/jsonrpc`
  const v1 = { url: jsonrpc, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }
  const card: AgentCard = {
    name: 'Echo agent',
    description: `An echo agent at ${jsonrpc}`,
    version: '1.0.0',
    supportedInterfaces: [
      ...(opts.versions.includes('1.0') ? [v1] : []),
      ...(opts.versions.includes('0.3')
        ? duplicateInterfacesForLegacy([v1], ['JSONRPC']).filter((i) => i.protocolVersion === '0.3')
        : []),
      { url: `127.0.0.1:1`, protocolBinding: 'GRPC', tenant: '', protocolVersion: '1.0' },
    ],
    provider: { organization: 'Tests', url: `${origin}/about` },
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [
      {
        id: 'echo',
        name: 'Echo',
        description: 'Echoes',
        tags: [],
        examples: [],
        inputModes: [],
        outputModes: [],
        securityRequirements: [],
      },
    ],
    documentationUrl: '',
    signatures: [{ protected: 'eyJhbGciOiJFUzI1NiJ9', signature: 'c2lnbmF0dXJl', header: undefined }],
  }
  const executor = new EchoExecutor()
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor)
  app.use(express.json(), (req, _res, next) => {
    seen.at(-1)!.rpc = typeof req.body?.method === 'string' ? req.body.method : null
    next()
  })
  if (opts.card) {
    app.use(
      '/.well-known/agent-card.json',
      agentCardHandler({ agentCardProvider: handler, legacyCompat: { enabled: true } }),
    )
  }
  app.use(
    '/a2a/jsonrpc',
    jsonRpcHandler({
      requestHandler: handler,
      userBuilder: UserBuilder.noAuthentication,
      legacyCompat: { enabled: true },
    }),
  )
  return { origin, jsonrpc, seen, executor }
}

async function relayedAgent(a2aUrl: string, extra: Record<string, unknown> = {}) {
  const res = await sb.call('POST', '/api/agents', {
    token: ws.key,
    body: {
      name: 'registry-echo',
      externalInvocation: true,
      endpointCredential: 'a2a-upstream-secret',
      protocols: { a2a: { enabled: true, url: a2aUrl } },
      ...extra,
    },
  })
  expect(res.status).toBe(201)
  return res.body.agent.permanentId as string
}

const message = (text: string): Message => ({
  messageId: crypto.randomUUID(),
  role: Role.ROLE_USER,
  parts: [
    { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' },
  ],
  taskId: '',
  contextId: '',
  extensions: [],
  metadata: {},
  referenceTaskIds: [],
})
const request = (text: string) => ({
  tenant: '',
  metadata: {},
  message: message(text),
  configuration: undefined,
})

const compatFactory = () =>
  new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      cardResolver: new DefaultAgentCardResolver({ legacyCompat: { enabled: true } }),
      transports: [new JsonRpcTransportFactory({ legacyCompat: { enabled: true } })],
    }),
  )

function echoed(
  result: Awaited<ReturnType<Awaited<ReturnType<ClientFactory['createFromUrl']>>['sendMessage']>>,
) {
  const task = result as { artifacts?: { parts: { content?: { $case: string; value: unknown } }[] }[] }
  return task.artifacts?.[0]?.parts[0]?.content?.value
}

describe('A2A relay: a 1.0 agent (with its v0.3 layer), the current client', async () => {
  const up = await sdkAgent({ versions: ['1.0', '0.3'], card: true })
  const pid = await relayedAgent(up.jsonrpc)
  const base = `${sb.url}/relay/${pid}/a2a`
  const upstreamHost = new URL(up.origin).host

  test('the card at both paths: interfaces at the relay, no gRPC, no signatures, no upstream address', async () => {
    const beside = await fetch(`${sb.url}/relay/${pid}/.well-known/agent-card.json`, {
      headers: { 'a2a-version': '1.0' },
    })
    const under = await fetch(`${base}/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })
    expect(beside.status).toBe(200)
    expect(under.status).toBe(200)
    const text = await beside.text()
    expect(await under.text()).toBe(text)
    expect(beside.headers.get('vary')).toBe('A2A-Version')
    const card = JSON.parse(text)
    expect(card.name).toBe('Echo agent')
    expect(card.signatures).toBeUndefined()
    expect(
      card.supportedInterfaces.map((i: { url: string; protocolVersion: string }) => [
        i.url,
        i.protocolVersion,
      ]),
    ).toEqual([
      [base, '1.0'],
      [base, '0.3'],
    ])
    expect(text).not.toContain(upstreamHost)
    expect(text).not.toContain('127.0.0.1:1')
    // The relay's second try (the agent's origin) found it; its first (under the A2A URL) did not.
    expect(
      up.seen
        .filter((s) => s.path.endsWith('agent-card.json'))
        .map((s) => s.path)
        .slice(-2),
    ).toEqual(['/a2a/jsonrpc/.well-known/agent-card.json', '/.well-known/agent-card.json'])
  })

  test('a client given the base URL resolves the card, sends (SendMessage, A2A-Version 1.0) and gets the task', async () => {
    const client = await new ClientFactory().createFromUrl(base)
    expect(client.protocolVersion).toBe('1.0')
    const result = await client.sendMessage(request('hello'))
    expect(echoed(result)).toBe('echo: hello')
    const rpc = up.seen.findLast((s) => s.rpc !== null)!
    expect(rpc.rpc).toBe('SendMessage')
    expect(rpc.headers['a2a-version']).toBe('1.0')
    expect(rpc.headers.authorization).toBe('Bearer a2a-upstream-secret')
  })

  test('streams (SendStreamingMessage) event by event, each before the agent sent the next', async () => {
    const client = await new ClientFactory().createFromUrl(base)
    const kinds: string[] = []
    const arrivedAt: number[] = []
    for await (const e of client.sendMessageStream(request('stream me')) as AsyncGenerator<StreamResponse>) {
      arrivedAt.push(performance.now())
      kinds.push(e.payload?.$case ?? '?')
    }
    expect(kinds).toEqual(['task', 'statusUpdate', 'artifactUpdate', 'statusUpdate'])
    expect(up.seen.findLast((s) => s.rpc !== null)!.rpc).toBe('SendStreamingMessage')
    const sent = up.executor.sentAt
    for (let i = 0; i + 1 < arrivedAt.length; i++) expect(arrivedAt[i]!).toBeLessThan(sent[i + 1]!)
  })

  test('the client’s own credential and cookie never reach the agent', async () => {
    const res = await fetch(base, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer client-secret',
        cookie: 'c=1',
        'a2a-version': '1.0',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'nope' } }),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { error?: unknown }).error).toBeDefined()
    const rpc = up.seen.findLast((s) => s.rpc === 'GetTask')!
    expect(rpc.headers.authorization).toBe('Bearer a2a-upstream-secret')
    expect(rpc.headers.cookie).toBeUndefined()
  })
})

describe('A2A relay: a 0.3 agent, the 0.3 compatibility client', async () => {
  const up = await sdkAgent({ versions: ['0.3'], card: true })
  const pid = await relayedAgent(up.jsonrpc)
  const base = `${sb.url}/relay/${pid}/a2a`

  test('the compat client picks the 0.3 interface and speaks message/send and message/stream through the relay', async () => {
    const client = await compatFactory().createFromUrl(base)
    expect(client.protocolVersion).toBe('0.3')
    const result = await client.sendMessage(request('old hello'))
    expect(echoed(result)).toBe('echo: old hello')
    expect(up.seen.findLast((s) => s.rpc !== null)!.rpc).toBe('message/send')
    const kinds: string[] = []
    for await (const e of client.sendMessageStream(request('old stream')) as AsyncGenerator<StreamResponse>) {
      kinds.push(e.payload?.$case ?? '?')
    }
    expect(kinds).toEqual(['task', 'statusUpdate', 'artifactUpdate', 'statusUpdate'])
    expect(up.seen.findLast((s) => s.rpc !== null)!.rpc).toBe('message/stream')
  })
})

describe('A2A relay: an agent that serves no card', async () => {
  const up = await sdkAgent({ versions: ['1.0', '0.3'], card: false })
  const pid = await relayedAgent(up.jsonrpc, {
    name: 'registry-echo',
    description: 'From the registry',
    capabilities: [{ name: 'echo', metadata: { description: 'Says it back' } }],
  })
  const base = `${sb.url}/relay/${pid}/a2a`

  test('the card is composed from the registry with the 0.3 and 1.0 fields', async () => {
    const card = await (await fetch(`${base}/.well-known/agent-card.json`)).json()
    expect(card).toMatchObject({
      name: 'registry-echo',
      description: 'From the registry',
      url: base,
      preferredTransport: 'JSONRPC',
      supportedInterfaces: [
        { url: base, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
        { url: base, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
      ],
      skills: [{ id: 'echo', name: 'echo', description: 'Says it back', tags: [] }],
    })
  })

  test('both clients work from the composed card', async () => {
    const modern = await new ClientFactory().createFromUrl(base)
    expect(echoed(await modern.sendMessage(request('a')))).toBe('echo: a')
    const compat = await compatFactory().createFromUrl(base)
    expect(echoed(await compat.sendMessage(request('b')))).toBe('echo: b')
  })
})

describe('A2A relay: an extended card over JSON-RPC', async () => {
  const up = upstream(async (req) => {
    const { id, method } = (await req.json()) as { id: number; method: string }
    const self = new URL(req.url).origin
    return Response.json({
      jsonrpc: '2.0',
      id,
      result: {
        name: `extended via ${method}`,
        description: 'secret skills',
        version: '1',
        url: `${self}/rpc`,
        supportedInterfaces: [{ url: `${self}/rpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
        signatures: [{ protected: 'x', signature: 'y' }],
      },
    })
  })
  const pid = await relayedAgent(`${up.url}/rpc`)
  const base = `${sb.url}/relay/${pid}/a2a`

  test('GetExtendedAgentCard and agent/getAuthenticatedExtendedCard come back rewritten like the card', async () => {
    for (const method of ['GetExtendedAgentCard', 'agent/getAuthenticatedExtendedCard']) {
      const res = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: {} }),
      })
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).not.toContain(new URL(up.url).host)
      const rpc = JSON.parse(text)
      expect(rpc).toMatchObject({
        jsonrpc: '2.0',
        id: 7,
        result: { name: `extended via ${method}`, url: base },
      })
      expect(rpc.result.supportedInterfaces[0].url).toBe(base)
      expect(rpc.result.signatures).toBeUndefined()
    }
  })
})
