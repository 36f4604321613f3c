import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import OpenAI from 'openai'
import pkg from '../../package.json'
import { ADMIN_TOKEN, onPostgres, tempDir, upstream } from '../helpers'
import {
  CALLER_SPAN,
  parts,
  promtoolCheck,
  recorder,
  requirePromtool,
  TRACE_ID,
  TRACEPARENT,
} from '../observability/fixtures'
import { otlpReceiver } from '../observability/otlp'

/**
 * The compiled binary, started as a user would: in an empty directory, nothing beside it.
 */
const root = join(import.meta.dir, '../..')
const bin = join(tempDir('sb-bin-'), 'switchboard')
const procs: Bun.Subprocess[] = []

/** The compile step of `npm run build` exactly as package.json says, into a directory of the test's own. */
function buildCommand(): string[] {
  const steps = (pkg.scripts as Record<string, string>).build!.split('&&').map((s) => s.trim())
  const script = steps.find((s) => s.startsWith('bun build '))!.split(/\s+/)
  const out = script.indexOf('--outfile')
  script[out + 1] = bin
  return [process.execPath, ...script.slice(1)]
}

beforeAll(async () => {
  const build = Bun.spawn(buildCommand(), { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  expect(await build.exited).toBe(0)
}, 120_000)
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL')
})

/** Starts the binary on a free port; resolves once it logs that it listens (`out` is stdout, `err` stderr). */
async function start(cwd: string, args: string[] = ['serve'], env: Record<string, string> = {}) {
  const proc = Bun.spawn([bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  procs.push(proc)
  let out = ''
  let err = ''
  void (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk)
  })()
  const reader = proc.stdout.getReader()
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`binary exited early: ${out}`)
    out += new TextDecoder().decode(value)
    const m = /"msg":"listening","url":"(http:\/\/[^"]+?)\/?"/.exec(out)
    if (m) {
      reader.releaseLock()
      await Bun.sleep(50)
      return { proc, url: m[1]!, out, err: () => err }
    }
  }
}

describe.skipIf(onPostgres)('compiled binary', () => {
  test('starts on an empty directory: bootstrap key once, health, docs without a CDN', async () => {
    const dir = tempDir('sb-empty-')
    const first = await start(dir)
    // The one-time key goes to the terminal (stderr), never into the JSON log on stdout.
    const key = /\n {2}(wk_[0-9A-Za-z]{38})\n/.exec(first.err())?.[1]
    expect(key).toBeTruthy()
    expect(first.out).not.toContain('wk_')
    // The start line: URL, docs, version, database file.
    const line = JSON.parse(first.out.split('\n').find((l) => l.includes('"msg":"listening"'))!)
    expect(line).toMatchObject({ url: `${first.url}/`, docs: `${first.url}/docs`, database: 'sqlite' })
    expect(line.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(line.path).toBe(join(realpathSync(dir), 'data/switchboard.db'))
    expect(await (await fetch(`${first.url}/healthz`)).json()).toEqual({ status: 'ok' })
    const docs = await (await fetch(`${first.url}/docs`)).text()
    expect(docs).toContain('/docs/assets/swagger-ui-bundle.js')
    expect(docs).not.toMatch(/https?:\/\//)
    expect((await fetch(`${first.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200)
    const spec: any = await (await fetch(`${first.url}/docs/json`)).json()
    expect(Object.keys(spec.paths)).toContain('/api/agents')
    const me = await fetch(`${first.url}/api/workspace`, { headers: { authorization: `Bearer ${key}` } })
    expect(((await me.json()) as any).name).toBe('default')

    // SIGTERM: drains and exits cleanly.
    first.proc.kill('SIGTERM')
    expect(await first.proc.exited).toBe(0)

    // Second start on the same directory: no new workspace, no key printed.
    const second = await start(dir)
    expect(second.out).not.toContain('wk_')
    expect(second.err()).not.toContain('wk_')
    const again = await fetch(`${second.url}/api/workspace`, { headers: { authorization: `Bearer ${key}` } })
    expect(again.status).toBe(200)
    second.proc.kill('SIGTERM')
    expect(await second.proc.exited).toBe(0)
  }, 60_000)

  test('serves the console it carries: the page at every console address, its assets, sign-in', async () => {
    const dir = tempDir('sb-console-')
    const { proc, url, err } = await start(dir)
    const key = /\n {2}(wk_[0-9A-Za-z]{38})\n/.exec(err())![1]!
    for (const path of ['/', '/agents/register', '/agents/agt-abcd1234/health']) {
      const page = await fetch(`${url}${path}`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toStartWith('text/html')
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
      const html = await page.text()
      expect(html).toContain('<div id="app">')
      const assets = [...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!)
      expect(assets.length).toBe(2)
      for (const a of assets) {
        const res = await fetch(`${url}/${a}`)
        expect(res.status).toBe(200)
        expect((await res.text()).length).toBeGreaterThan(a.endsWith('.js') ? 10_000 : 1000)
      }
    }
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    })
    expect(signIn.status).toBe(200)
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    expect((await fetch(`${url}/api/agents`, { headers: { cookie } })).status).toBe(200)
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  }, 60_000)

  test('app connections: a bearer and an OAuth2 app called through the binary; a traversal refused; no secret in its database file', async () => {
    let tokenRequests = 0
    const seen: string[] = []
    const app = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(req) {
        const u = new URL(req.url)
        if (u.pathname === '/oauth/token') {
          tokenRequests++
          return Response.json({
            access_token: `binary-token-${tokenRequests}`,
            token_type: 'Bearer',
            expires_in: 3600,
          })
        }
        seen.push(`${req.method} ${u.pathname}${u.search} ${req.headers.get('authorization')}`)
        return Response.json({ ok: true, path: u.pathname })
      },
    })
    try {
      const dir = tempDir('sb-apps-')
      const { proc, url, err } = await start(dir, ['serve'], { SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8' })
      const key = /\n {2}(wk_[0-9A-Za-z]{38})\n/.exec(err())![1]!
      const api = (path: string, token: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }))
      const agent = (await api('/api/agents', key, { name: 'runner' })).body
      const base = `http://127.0.0.1:${app.port}/v2`
      const crm = await api('/api/app-connections', key, {
        name: 'crm',
        baseUrl: base,
        auth: { type: 'bearer', value: 'binary-bearer-secret' },
      })
      expect(crm.status).toBe(201)
      const tickets = await api('/api/app-connections', key, {
        name: 'tickets',
        baseUrl: base,
        auth: {
          type: 'oauth2_client_credentials',
          tokenUrl: `http://127.0.0.1:${app.port}/oauth/token`,
          clientId: 'sb',
          clientSecret: 'binary-client-secret',
        },
      })
      expect(tickets.status).toBe(201)
      const refused = await api('/api/app-connections', key, {
        name: 'meta',
        baseUrl: 'http://169.254.169.254/latest',
        auth: { type: 'bearer', value: 'x' },
      })
      expect(refused.body.details).toEqual({ field: 'baseUrl', rule: 'metadata' })
      const exec = (id: string, body: unknown) =>
        api(`/api/agents/${agent.agent.id}/app-connections/${id}/execute`, agent.token, body)
      expect(
        (await exec(crm.body.id, { method: 'GET', path: '/contacts', query: { q: 'ada' } })).body,
      ).toMatchObject({
        status: 200,
        body: { ok: true, path: '/v2/contacts' },
        bodyEncoding: 'json',
      })
      for (let i = 0; i < 2; i++)
        expect(
          (await exec(tickets.body.id, { method: 'POST', path: '/tickets', body: { t: i } })).body.status,
        ).toBe(200)
      const traversal = await exec(crm.body.id, { method: 'GET', path: '/%252e%252e/admin' })
      expect(traversal.status).toBe(400)
      expect(traversal.body.details.rule).toBe('dot_segment')
      expect(seen).toEqual([
        'GET /v2/contacts?q=ada Bearer binary-bearer-secret',
        'POST /v2/tickets Bearer binary-token-1',
        'POST /v2/tickets Bearer binary-token-1',
      ])
      expect(tokenRequests).toBe(1)
      proc.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
      const files = ['switchboard.db', 'switchboard.db-wal']
        .map((f) => join(dir, 'data', f))
        .filter(existsSync)
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)))
      expect(bytes.length).toBeGreaterThan(0)
      for (const secret of ['binary-bearer-secret', 'binary-client-secret', 'binary-token-1']) {
        expect({ secret, inFile: bytes.includes(secret) }).toEqual({ secret, inFile: false })
      }
    } finally {
      app.stop(true)
    }
  }, 60_000)

  test('a bad setting stops it with one clear line', async () => {
    const proc = Bun.spawn([bin], { cwd: tempDir(), env: { PORT: 'eighty' }, stdout: 'pipe', stderr: 'pipe' })
    expect(await proc.exited).toBe(2)
    expect(await new Response(proc.stderr).text()).toContain('PORT: ')
  })

  test('migrate and workspace create', async () => {
    const dir = tempDir('sb-cli-')
    const env = { PATH: process.env.PATH ?? '' }
    const migrate = Bun.spawn([bin, 'migrate'], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe' })
    expect(await migrate.exited).toBe(0)
    const create = Bun.spawn([bin, 'workspace', 'create', 'acme'], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await create.exited).toBe(0)
    expect(await new Response(create.stdout).text()).toMatch(
      /Created workspace "acme" .*\n\n {2}wk_[0-9A-Za-z]{38}\n/s,
    )
    const dup = Bun.spawn([bin, 'workspace', 'create', 'acme'], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await dup.exited).toBe(1)
    expect(await new Response(dup.stderr).text()).toContain('already exists')
  })

  test('exports spans over OTLP/HTTP (protobuf) and flushes them at SIGTERM; /metrics passes promtool', async () => {
    const receiver = otlpReceiver()
    const agent = recorder()
    const node = await start(tempDir('sb-otel-'), ['serve'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'switchboard-binary',
      // Nothing is sent before the stop: the spans that arrive were flushed by it.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
    })
    const key = /\n {2}(wk_[0-9A-Za-z]{38})\n/.exec(node.err())![1]!
    const api = async (path: string, token: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${node.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as any }
    }
    const caller = (await api('/api/agents', key, { name: 'caller' })).body
    const target = (await api('/api/agents', key, { name: 'target', endpointUrl: `${agent.url}/bin` })).body
    const conn = (
      await api('/api/connections', key, {
        agentId: caller.agent.id,
        targetAgentId: target.agent.id,
        type: 'private',
      })
    ).body
    const called = await api(`/api/proxy/${conn.id}`, caller.token, { hi: 1 }, { traceparent: TRACEPARENT })
    expect(called.status).toBe(200)
    const sent = parts(agent.at('/bin')[0]!.headers.traceparent)
    expect(sent.traceId).toBe(TRACE_ID)

    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    expect(metrics).toContain(
      'switchboard_upstream_requests_total{lane="sync",outcome="2xx",protocol="none"} 1',
    )
    if (requirePromtool) expect(await promtoolCheck(metrics)).toEqual({ code: 0, output: '' })

    expect(receiver.spans).toHaveLength(0)
    node.proc.kill('SIGTERM')
    expect(await node.proc.exited).toBe(0)
    expect(receiver.exports[0]!.contentType).toBe('application/x-protobuf')
    const trace = receiver.byTrace(TRACE_ID)
    const server = trace.find((s) => s.kind === 2)!
    expect(server).toMatchObject({
      name: 'POST /api/proxy/:connectionId',
      parentSpanId: CALLER_SPAN,
      service: 'switchboard-binary',
    })
    expect(server.attributes['http.response.status_code']).toBe(200)
    const hop = trace.find((s) => s.kind === 3)!
    expect(hop).toMatchObject({ parentSpanId: server.spanId, spanId: sent.spanId })
    expect(hop.attributes['switchboard.lane']).toBe('sync')
  }, 60_000)

  test('flags: --port/--host/--database taken, unknown ones refused; a port in use is refused', async () => {
    const dir = tempDir('sb-flags-')
    const bad = Bun.spawn([bin, 'serve', '--prot', '38090'], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    expect(await bad.exited).toBe(2)
    expect(await new Response(bad.stderr).text()).toContain('unknown option --prot')
    const extra = Bun.spawn([bin, 'serve', 'now'], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    expect(await extra.exited).toBe(2)
    const a = await start(
      dir,
      ['serve', '--port=0', '--host', '127.0.0.1', '--database', 'sqlite://flags/a.db'],
      {
        PORT: '1',
      },
    )
    const line = JSON.parse(a.out.split('\n').find((l) => l.includes('"msg":"listening"'))!)
    expect(line.path).toBe(join(realpathSync(dir), 'flags/a.db'))
    const port = new URL(a.url).port
    const env = { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', SWITCHBOARD_BOOTSTRAP: 'false' }
    const clash = Bun.spawn([bin, '--port', port, '--database', 'sqlite:b.db'], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await clash.exited).toBe(1)
    expect(await new Response(clash.stderr).text()).toContain(`cannot listen on 127.0.0.1:${port}`)
    const health = Bun.spawn([bin, 'healthcheck', '--port', port], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await health.exited).toBe(0)
    const ready = Bun.spawn([bin, 'healthcheck', '--ready', '--port', port], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await ready.exited).toBe(0)
    a.proc.kill('SIGTERM')
    expect(await a.proc.exited).toBe(0)
    const down = Bun.spawn([bin, 'healthcheck', '--port', port], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await down.exited).toBe(1)
  }, 60_000)

  test('workspace key NAME issues a new key for a workspace whose keys are lost; workspace list', async () => {
    const dir = tempDir('sb-key-')
    const env = { PATH: process.env.PATH ?? '' }
    const run = async (...args: string[]) => {
      const p = Bun.spawn([bin, ...args], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe' })
      return {
        code: await p.exited,
        out: await new Response(p.stdout).text(),
        err: await new Response(p.stderr).text(),
      }
    }
    expect((await run('workspace', 'create', 'acme')).code).toBe(0)
    const issued = await run('workspace', 'key', 'acme')
    expect(issued.code).toBe(0)
    const key = /\n {2}(wk_[0-9A-Za-z]{38})\n/.exec(issued.out)?.[1]
    expect(key).toBeTruthy()
    const list = await run('workspace', 'list')
    expect(list.out).toMatch(/^[0-9a-f-]{36} {2}\S+ {2}acme$/m)
    const missing = await run('workspace', 'key', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('Workspace not found')
    // The issued key works against the server.
    const sb = await start(dir, ['serve'], { SWITCHBOARD_BOOTSTRAP: 'false' })
    const me = await fetch(`${sb.url}/api/workspace`, { headers: { authorization: `Bearer ${key}` } })
    expect(((await me.json()) as any).name).toBe('acme')
    sb.proc.kill('SIGTERM')
    await sb.proc.exited
  }, 60_000)

  test('--version and --help', async () => {
    const v = Bun.spawn([bin, '--version'], { stdout: 'pipe' })
    expect((await new Response(v.stdout).text()).trim()).toMatch(/^\d+\.\d+\.\d+$/)
    const h = Bun.spawn([bin, '--help'], { stdout: 'pipe' })
    expect(await new Response(h.stdout).text()).toContain('workspace create NAME')
  })

  test('relays: the openai client and an MCP 1.x session reach a local agent through the binary', async () => {
    const llm = upstream(async (req) => {
      const body = (await req.json()) as { stream?: boolean }
      if (!body.stream) {
        const content = `credential: ${req.headers.get('authorization')}`
        return Response.json({
          id: '1',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        })
      }
      const chunk = (content: string) =>
        `data: ${JSON.stringify({ id: '1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
      return new Response(`${chunk('a')}${chunk('b')}data: [DONE]\n\n`, {
        headers: { 'content-type': 'text/event-stream' },
      })
    })
    const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>()
    const tools = upstream(async (req) => {
      const sid = req.headers.get('mcp-session-id')
      if (sid) return sessions.get(sid)?.handleRequest(req) ?? new Response('gone', { status: 404 })
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, transport)
        },
      })
      const server = new McpServer({ name: 'bin-tools', version: '1.0.0' })
      server.registerTool('ping', { description: 'pong' }, async () => ({
        content: [{ type: 'text', text: 'pong' }],
      }))
      await server.connect(transport)
      return transport.handleRequest(req)
    })
    const sb = await start(tempDir('sb-relay-'), ['serve'], {
      SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_BOOTSTRAP: 'false',
    })
    const post = async (path: string, token: string, body: unknown) =>
      (await (
        await fetch(`${sb.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as any
    const ws = await post('/api/workspaces', ADMIN_TOKEN, { name: 'relays' })
    const reg = await post('/api/agents', ws.apiKey, {
      name: 'relayed',
      externalInvocation: true,
      endpointCredential: 'agent-side-secret',
      protocols: { openai: { enabled: true, url: llm.url }, mcp: { enabled: true, url: `${tools.url}/mcp` } },
    })
    const pid = reg.agent.permanentId
    const openai = new OpenAI({
      baseURL: `${sb.url}/relay/${pid}/openai/v1`,
      apiKey: 'client-key',
      maxRetries: 0,
    })
    const answer = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    })
    expect(answer.choices[0]!.message.content).toBe('credential: Bearer agent-side-secret')
    const parts: string[] = []
    for await (const c of await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    }))
      parts.push(c.choices[0]?.delta.content ?? '')
    expect(parts.join('')).toBe('ab')
    const transport = new StreamableHTTPClientTransport(new URL(`${sb.url}/relay/${pid}/mcp`))
    const mcp = new Client({ name: 'bin-client', version: '1.0.0' })
    await mcp.connect(transport)
    expect(transport.sessionId).toBeDefined()
    expect((await mcp.callTool({ name: 'ping', arguments: {} })).content).toEqual([
      { type: 'text', text: 'pong' },
    ])
    await mcp.close()
    const missing = await fetch(`${sb.url}/relay/agt-zzzz9999/mcp`, { method: 'POST', body: '{}' })
    expect(missing.status).toBe(404)
    sb.proc.kill('SIGTERM')
    expect(await sb.proc.exited).toBe(0)
    llm.server.stop(true)
    tools.server.stop(true)
  }, 60_000)
})
