import { describe, expect, test } from 'bun:test'
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import { createMcpHandler, McpServer as ModernServer } from '@modelcontextprotocol/server'
import { z } from 'zod'
import { liveServer, onPostgres, upstream } from '../helpers'

/**
 * The MCP relay with the official SDKs at both ends: `@modelcontextprotocol/sdk` 1.x
 * (2025-11-25, sessions) against a session-ful 1.x server, and `@modelcontextprotocol/client`
 * 2.x (2026-07-28, stateless) against a 2.x server. On Postgres, one session's requests
 * alternate between two instances.
 */
const sb = await liveServer()
const ws = await sb.workspace()

type Seen = { method: string; headers: Record<string, string> }

/** A 1.x server with sessions: a transport per session, as the SDK's examples keep them. */
function sessionServer() {
  const seen: Seen[] = []
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>()
  const closed: string[] = []
  const progressSentAt: number[] = []
  const build = () => {
    const server = new McpServer({ name: 'legacy-upstream', version: '1.0.0' })
    server.registerTool(
      'add',
      { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
    )
    server.registerTool('count', { description: 'Counts to three, slowly' }, async (extra) => {
      const token = extra._meta?.progressToken
      for (let i = 1; i <= 3; i++) {
        if (token !== undefined) {
          progressSentAt.push(performance.now())
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: 3 },
          })
        }
        await Bun.sleep(150)
      }
      return { content: [{ type: 'text', text: 'done' }] }
    })
    return server
  }
  const { url } = upstream(async (req) => {
    seen.push({ method: req.method, headers: Object.fromEntries(req.headers) })
    const sid = req.headers.get('mcp-session-id')
    if (sid) {
      const t = sessions.get(sid)
      return t ? t.handleRequest(req) : Response.json({ error: 'unknown session' }, { status: 404 })
    }
    const body = req.method === 'POST' ? await req.json() : null
    if (!isInitializeRequest(body)) return new Response('initialize first', { status: 400 })
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport)
      },
      onsessionclosed: (id) => {
        closed.push(id)
        sessions.delete(id)
      },
    })
    await build().connect(transport)
    return transport.handleRequest(req, { parsedBody: body })
  })
  return { url: `${url}/mcp`, seen, sessions, closed, progressSentAt }
}

/** A 2.x server: stateless, a fresh server per request (createMcpHandler). */
function modernServer() {
  const seen: Seen[] = []
  const handler = createMcpHandler(() => {
    const server = new ModernServer({ name: 'modern-upstream', version: '2.0.0' })
    server.registerTool(
      'greet',
      { description: 'Greets', inputSchema: z.object({ name: z.string() }) },
      async ({ name }, ctx) => {
        const token = ctx.mcpReq._meta?.progressToken
        if (token !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken: token, progress: 1 },
          })
        }
        return { content: [{ type: 'text', text: `hello ${name}` }] }
      },
    )
    return server
  })
  const { url } = upstream(async (req) => {
    seen.push({ method: req.method, headers: Object.fromEntries(req.headers) })
    return handler.fetch(req)
  })
  return { url: `${url}/mcp`, seen }
}

async function relayedAgent(mcpUrl: string) {
  const res = await sb.call('POST', '/api/agents', {
    token: ws.key,
    body: {
      name: 'tools',
      externalInvocation: true,
      endpointCredential: 'mcp-upstream-secret',
      protocols: { mcp: { enabled: true, url: mcpUrl } },
    },
  })
  expect(res.status).toBe(201)
  return res.body.agent.permanentId as string
}

/** The client's own credential and cookie: they must never reach the agent. */
const clientHeaders = { authorization: 'Bearer client-own-token', cookie: 'client=1' }

describe('MCP relay, 2025-11-25 with sessions (@modelcontextprotocol/sdk 1.x)', async () => {
  const up = sessionServer()
  const pid = await relayedAgent(up.url)
  const transport = new StreamableHTTPClientTransport(new URL(`${sb.url}/relay/${pid}/mcp`), {
    requestInit: { headers: clientHeaders },
  })
  const client = new Client({ name: 'legacy-client', version: '1.0.0' })

  test('initialize: the upstream’s session id comes back through the relay', async () => {
    await client.connect(transport)
    expect(client.getServerVersion()?.name).toBe('legacy-upstream')
    expect(transport.sessionId).toBeDefined()
    expect([...up.sessions.keys()]).toContain(transport.sessionId!)
  })

  test('tools: list and call, every request carrying the session and the protocol version', async () => {
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'count'])
    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
    expect(sum.content).toEqual([{ type: 'text', text: '5' }])
    const later = up.seen.filter((s) => s.method === 'POST').slice(1)
    expect(later.length).toBeGreaterThan(0)
    for (const s of later) {
      expect(s.headers['mcp-session-id']).toBe(transport.sessionId!)
      expect(s.headers['mcp-protocol-version']).toBe('2025-11-25')
    }
  })

  test('progress notifications arrive before the result, each as it is sent', async () => {
    const events: string[] = []
    const arrivedAt: number[] = []
    up.progressSentAt.length = 0
    const result = await client.callTool({ name: 'count', arguments: {} }, undefined, {
      onprogress: (p) => {
        arrivedAt.push(performance.now())
        events.push(`progress ${p.progress}/${p.total}`)
      },
    })
    events.push(`result ${JSON.stringify(result.content)}`)
    expect(events).toEqual([
      'progress 1/3',
      'progress 2/3',
      'progress 3/3',
      'result [{"type":"text","text":"done"}]',
    ])
    for (let i = 0; i + 1 < arrivedAt.length; i++)
      expect(arrivedAt[i]!).toBeLessThan(up.progressSentAt[i + 1]!)
  })

  test('the endpoint credential goes up; the client’s Authorization and cookie never do', () => {
    for (const s of up.seen) {
      expect(s.headers.authorization).toBe('Bearer mcp-upstream-secret')
      expect(s.headers.cookie).toBeUndefined()
    }
  })

  test('terminateSession() reaches the upstream as DELETE and ends the session there', async () => {
    const id = transport.sessionId!
    await transport.terminateSession()
    expect(up.closed).toContain(id)
    expect(up.seen.some((s) => s.method === 'DELETE' && s.headers['mcp-session-id'] === id)).toBe(true)
    await client.close()
  })
})

describe('MCP relay, 2026-07-28 stateless (@modelcontextprotocol/client 2.x)', async () => {
  const up = modernServer()
  const pid = await relayedAgent(up.url)

  test('list and call a tool; Mcp-Method, Mcp-Name and MCP-Protocol-Version reach the upstream', async () => {
    const client = new ModernClient(
      { name: 'modern-client', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    )
    await client.connect(
      new ModernTransport(new URL(`${sb.url}/relay/${pid}/mcp`), { requestInit: { headers: clientHeaders } }),
    )
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toEqual(['greet'])
    const progress: number[] = []
    const result = await client.callTool(
      { name: 'greet', arguments: { name: 'relay' } },
      { onprogress: (p) => progress.push(p.progress) },
    )
    expect(result.content).toEqual([{ type: 'text', text: 'hello relay' }])
    expect(progress).toEqual([1])
    const call = up.seen.find((s) => s.headers['mcp-method'] === 'tools/call')!
    expect(call.headers['mcp-name']).toBe('greet')
    expect(call.headers['mcp-protocol-version']).toBe('2026-07-28')
    expect(up.seen.some((s) => s.headers['mcp-method'] === 'tools/list')).toBe(true)
    // Stateless: nobody minted a session.
    for (const s of up.seen) {
      expect(s.headers['mcp-session-id']).toBeUndefined()
      expect(s.headers.authorization).toBe('Bearer mcp-upstream-secret')
      expect(s.headers.cookie).toBeUndefined()
    }
    await client.close()
  })
})

describe.skipIf(!onPostgres)('MCP relay across instances (Postgres)', async () => {
  const second = onPostgres ? await liveServer() : null
  const up = sessionServer()

  test('one session whose requests alternate between two instances', async () => {
    const pid = await relayedAgent(up.url)
    const origins = [new URL(sb.url), new URL(second!.url)]
    const used: string[] = []
    let turn = 0
    const alternating = (input: string | URL | Request, init?: RequestInit) => {
      const u = new URL(input instanceof Request ? input.url : input)
      const origin = origins[turn++ % 2]!
      u.host = origin.host
      used.push(origin.host)
      return fetch(u, init)
    }
    const transport = new StreamableHTTPClientTransport(new URL(`${sb.url}/relay/${pid}/mcp`), {
      fetch: alternating,
    })
    const client = new Client({ name: 'roaming-client', version: '1.0.0' })
    await client.connect(transport)
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'count'])
    for (let i = 0; i < 4; i++) {
      const r = await client.callTool({ name: 'add', arguments: { a: i, b: 1 } })
      expect(r.content).toEqual([{ type: 'text', text: String(i + 1) }])
    }
    const id = transport.sessionId!
    await transport.terminateSession()
    expect(up.closed).toEqual([id])
    expect(new Set(used)).toEqual(new Set(origins.map((o) => o.host)))
    // Every request after initialize carried the one session, whichever instance relayed it.
    const posts = up.seen.filter((s) => s.method !== 'GET').slice(1)
    expect(posts.length).toBeGreaterThan(4)
    for (const s of posts) expect(s.headers['mcp-session-id']).toBe(id)
    await client.close()
  })
})
