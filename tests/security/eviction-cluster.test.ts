import { describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { harness, onPostgres, registerAgent, upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'

/**
 * Two instances on one Postgres database, each with its own caches of credentials and routes.
 * Deleting an agent on one must leave nothing on the other that still accepts its token or
 * routes to it by the time DELETE answers; an instance that missed notes (its listen
 * connection broke) forgets everything it cached when it is back.
 */
describe.skipIf(!onPostgres)('cache eviction across instances', async () => {
  // A long cache life: only an eviction, never the TTL, can explain a refusal below.
  const env = { SWITCHBOARD_TOKEN_CACHE_SECONDS: '3600' }
  const one = await harness({ env })
  const two = await harness({ env })
  const ws = await one.workspace()
  const seen: string[] = []
  const agent = upstream((req) => {
    seen.push(new URL(req.url).pathname)
    return Response.json({ ok: true })
  })

  test('DELETE on one instance answers only once the other has dropped the agent', async () => {
    const caller = await registerAgent(one, ws.key)
    const x = await registerAgent(one, ws.key, { endpointUrl: `${agent.url}/x` })
    const conn = await one.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: caller.id, targetAgentId: x.id, type: 'private' },
    })
    // Instance one caches X's token, the connection and X's route.
    expect((await one.call('GET', '/api/agents/me', { token: x.token })).status).toBe(200)
    expect(
      (await one.call('POST', `/api/proxy/${conn.body.id}`, { token: caller.token, raw: '{}' })).status,
    ).toBe(200)
    expect((await two.call('DELETE', `/api/agents/${x.id}`, { token: ws.key })).status).toBe(200)
    // No waiting: the answer itself means instance one has forgotten X.
    const before = seen.length
    expect((await one.call('GET', '/api/agents/me', { token: x.token })).status).toBe(401)
    expect(
      (await one.call('POST', `/api/proxy/${conn.body.id}`, { token: caller.token, raw: '{}' })).status,
    ).toBe(404)
    expect(seen.length).toBe(before)
  })

  test('a revoked key is refused on the other instance as soon as the revocation answers', async () => {
    const extra = await one.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'extra' } })
    expect((await one.call('GET', '/api/workspace', { token: extra.body.apiKey })).status).toBe(200)
    expect(
      (await two.call('DELETE', `/api/workspace/keys/${extra.body.key.id}`, { token: ws.key })).status,
    ).toBe(200)
    expect((await one.call('GET', '/api/workspace', { token: extra.body.apiKey })).status).toBe(401)
  })

  test('an instance whose listen connection broke forgets what it cached', async () => {
    const x = await registerAgent(one, ws.key)
    expect((await one.call('GET', '/api/agents/me', { token: x.token })).status).toBe(200)
    // The token ends without any note (as if the note was lost): instance one still trusts its cache.
    const { agentTokens: t } = one.deps.db.t
    await one.deps.db.write(() =>
      one.deps.db.orm.update(t).set({ revokedAt: new Date() }).where(eq(t.agentId, x.id)),
    )
    expect((await one.call('GET', '/api/agents/me', { token: x.token })).status).toBe(200)
    // Cut instance one's bus connections; it reconnects and listens again.
    await two.deps.db.execute(
      sql`select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = ${`switchboard-bus:${one.deps.instanceId}`}`,
    )
    await waitFor(
      async () => (await one.call('GET', '/api/agents/me', { token: x.token })).status === 401,
      'instance one to drop its cache after listening again',
    )
  })
})
