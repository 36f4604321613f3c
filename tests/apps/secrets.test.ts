import { expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { eq, sql } from 'drizzle-orm'
import { createLogger } from '../../src/lib/log'
import { harness, onPostgres, type Res, upstream } from '../helpers'
import { otlpReceiver } from '../observability/otlp'
import { appWorkspace, execute, standInSaas, tokenEndpoint } from './fixtures'

/**
 * An app connection's secret — and the access tokens got with it — appear in no answer, no log
 * line (the logger captured at debug level), no exported span, no audit row and no database file, whatever path
 * the calls take: success, refusal, a 401 and its refresh, an unreachable app, a failing token
 * endpoint, a timeout.
 */
const lines: string[] = []
const receiver = otlpReceiver()
const h = await harness({
  env: {
    SWITCHBOARD_MASTER_KEY: onPostgres ? 'b'.repeat(64) : '',
    // Spans go to a local OTLP receiver, so their attributes can be searched too.
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  },
  log: createLogger('debug', (l) => lines.push(l)),
})
const saas = standInSaas()
const tag = crypto.randomUUID().slice(0, 8)
const tokens = tokenEndpoint({ prefix: `access-${tag}-` })
const failing = tokenEndpoint({ status: 500 })
const { ws, agent } = await appWorkspace(h)
const closed = upstream(() => new Response('never'))
const deadPort = closed.server.port
closed.server.stop(true)

const secrets = {
  bearer: `bearer-${tag}-one`,
  header: `header-${tag}-two`,
  basic: `basic-${tag}-three`,
  query: `query-${tag}-four`,
  oauth: `oauth-${tag}-five`,
  rotated: `rotated-${tag}-six`,
  dead: `dead-${tag}-seven`,
  failing: `failing-${tag}-eight`,
}

test('no secret in any answer, log line, audit row or database file', async () => {
  const answers: Res[] = []
  const call = async (p: Promise<Res>) => {
    const r = await p
    answers.push(r)
    return r
  }
  const create = (name: string, auth: Record<string, unknown>, baseUrl = `${saas.url}/api`, extra = {}) =>
    call(
      h.call('POST', '/api/app-connections', { token: ws.key, body: { name, baseUrl, auth, ...extra } }),
    ).then((r) => {
      expect(r.status).toBe(201)
      return r.body.id as string
    })
  const ids = {
    bearer: await create('bearer', { type: 'bearer', value: secrets.bearer }),
    header: await create('header', { type: 'header', name: 'X-Api-Key', value: secrets.header }),
    basic: await create('basic', { type: 'basic', username: 'ada', password: secrets.basic }),
    query: await create('query', { type: 'query', name: 'key', value: secrets.query }),
    oauth: await create('oauth', {
      type: 'oauth2_client_credentials',
      tokenUrl: tokens.url,
      clientId: 'c',
      clientSecret: secrets.oauth,
    }),
    dead: await create(
      'dead',
      { type: 'query', name: 'key', value: secrets.dead },
      `http://127.0.0.1:${deadPort}/api`,
    ),
    failing: await create('failing', {
      type: 'oauth2_client_credentials',
      tokenUrl: failing.url,
      clientId: 'c',
      clientSecret: secrets.failing,
    }),
  }
  const slow = await create('slow', { type: 'query', name: 'key', value: secrets.query }, `${saas.url}/api`, {
    timeoutMs: 200,
  })

  for (const id of Object.values(ids)) {
    await call(execute(h, agent, id, { method: 'GET', path: '/echo', query: { q: 'x' } }))
    await call(execute(h, agent, id, { method: 'POST', path: '/unauthorized', body: { a: 1 } }))
    await call(execute(h, agent, id, { method: 'GET', path: '/%2e%2e/admin' }))
    await call(
      execute(h, agent, id, { method: 'GET', path: '/x', headers: { Authorization: 'Bearer guess' } }),
    )
    await call(h.call('GET', `/api/app-connections/${id}`, { token: ws.key }))
  }
  await call(execute(h, agent, ids.query, { method: 'GET', path: '/x', query: { KEY: 'guess' } }))
  await call(execute(h, agent, slow, { method: 'GET', path: '/slow' }))
  await call(
    h.call('PATCH', `/api/app-connections/${ids.bearer}`, {
      token: ws.key,
      body: { auth: { type: 'bearer', value: secrets.rotated } },
    }),
  )
  await call(execute(h, agent, ids.bearer, { method: 'GET', path: '/echo' }))
  await call(h.call('GET', '/api/app-connections', { token: ws.key }))
  await call(h.call('GET', '/api/audit-logs?limit=500', { token: ws.key }))
  await call(h.call('GET', '/metrics'))
  await call(h.call('DELETE', `/api/app-connections/${ids.header}`, { token: ws.key }))

  // The upstreams did get the secrets (so the checks below can see them when they leak).
  const received = JSON.stringify(saas.received.map((r) => [r.target, [...r.headers]]))
  for (const s of [secrets.rotated, secrets.header, secrets.query]) expect(received).toContain(s)
  expect(received).toContain(`access-${tag}-`)
  expect(tokens.requests.length).toBeGreaterThan(1)
  expect(failing.requests.length).toBeGreaterThan(0)

  const hidden = [
    ...Object.values(secrets),
    `access-${tag}-`,
    Buffer.from(`ada:${secrets.basic}`).toString('base64'),
  ]
  const answerText = answers.map((a) => `${a.text}\n${JSON.stringify([...a.headers])}`).join('\n')
  // The stand-in echoes what it got; Switchboard redacted the credential out of those answers.
  expect(answerText).toContain('[redacted]')
  const logText = lines.join('')
  // Every app call is a client span of the app lane, with the app's origin only.
  for (let i = 0; i < 200 && receiver.spans.filter((sp) => sp.kind === 3).length < 15; i++)
    await Bun.sleep(25)
  const clientSpans = receiver.spans.filter((sp) => sp.kind === 3)
  expect(clientSpans.length).toBeGreaterThanOrEqual(15)
  const spanText = JSON.stringify(receiver.spans)
  expect(spanText).toContain(saas.url)
  expect(lines.length).toBeGreaterThan(20)
  expect(logText).toContain('app token request failed')
  const { auditLogs: al, appConnections: ac } = h.deps.db.t
  const audit = await h.deps.db.orm.select().from(al).where(eq(al.workspaceId, ws.id))
  expect(audit.filter((r) => r.action === 'app_connection_executed').length).toBeGreaterThan(20)
  const auditText = JSON.stringify(audit)
  const rows = await h.deps.db.orm.select().from(ac).where(eq(ac.workspaceId, ws.id))
  const rowText = JSON.stringify(rows)
  // What is stored is the sealed value, so the scans can see stored data at all.
  expect(rowText).toContain(`"v1.${h.deps.sealer.currentKeyId}.`)
  for (const s of hidden) {
    expect({ s, inAnswer: answerText.includes(s) }).toEqual({ s, inAnswer: false })
    expect({ s, inLog: logText.includes(s) }).toEqual({ s, inLog: false })
    expect({ s, inSpan: spanText.includes(s) }).toEqual({ s, inSpan: false })
    expect({ s, inAudit: auditText.includes(s) }).toEqual({ s, inAudit: false })
    expect({ s, inTable: rowText.includes(s) }).toEqual({ s, inTable: false })
  }
  if (h.deps.config.database.kind === 'sqlite') {
    const path = h.deps.config.database.path
    const bytes = Buffer.concat(
      [path, `${path}-wal`, `${path}-shm`].filter(existsSync).map((f) => readFileSync(f)),
    )
    expect(bytes.includes(rows[0]!.secret)).toBe(true)
    for (const s of hidden) expect({ s, inFile: bytes.includes(s) }).toEqual({ s, inFile: false })
  } else {
    // Postgres: every column of both tables, as Postgres itself renders them.
    const text = JSON.stringify(
      await h.deps.db.execute(
        sql`select c::text as row from app_connections c where workspace_id = ${ws.id}
            union all select a::text from audit_logs a where workspace_id = ${ws.id}`,
      ),
    )
    expect(text).toContain('v1.')
    for (const s of hidden) expect({ s, inPostgres: text.includes(s) }).toEqual({ s, inPostgres: false })
  }
})
