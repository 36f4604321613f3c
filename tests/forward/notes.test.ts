import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { harness, registerAgent } from '../helpers'

/**
 * Typed change notes: each cache evicts what it holds. A presence flip leaves cached tokens and
 * unsealed routes alone (the route's presence is set in place); an ended credential evicts the
 * token; a changed route reloads the agent.
 */
const h = await harness()
const ws = await h.workspace()

async function cachedAgent() {
  const a = await registerAgent(h, ws.key, {
    endpointUrl: 'http://127.0.0.1:9/old',
    endpointCredential: 'secret-1',
  })
  expect(await h.deps.credentials.resolve(a.token)).toMatchObject({ kind: 'agent', agentId: a.id })
  expect((await h.deps.routes.agent(a.id))?.endpointUrl).toBe('http://127.0.0.1:9/old')
  // Changed behind the caches' back: only a note that evicts the route shows it.
  const { agents } = h.deps.db.t
  await h.deps.db.tx((tx) =>
    tx.update(agents).set({ endpointUrl: 'http://127.0.0.1:9/new' }).where(eq(agents.id, a.id)),
  )
  return a
}

describe('change notes', () => {
  test('presence.changed: tokens stay cached; the cached route takes the new presence without a reload', async () => {
    const a = await cachedAgent()
    const size = h.deps.credentials.size
    h.deps.bus.publish('presence.changed', { agentId: a.id, presence: 'online' })
    expect(h.deps.credentials.size).toBe(size)
    const route = await h.deps.routes.agent(a.id)
    expect(route?.presence).toBe('online')
    expect(route?.endpointUrl).toBe('http://127.0.0.1:9/old')
    expect(route?.credential?.value).toBe('Bearer secret-1')
  })

  test('route.changed: the agent is read again; tokens stay cached', async () => {
    const a = await cachedAgent()
    const size = h.deps.credentials.size
    h.deps.bus.publish('route.changed', { agentId: a.id })
    expect(h.deps.credentials.size).toBe(size)
    expect((await h.deps.routes.agent(a.id))?.endpointUrl).toBe('http://127.0.0.1:9/new')
  })

  test('credential.ended: the token is evicted, the route stays', async () => {
    const a = await cachedAgent()
    const size = h.deps.credentials.size
    h.deps.bus.publish('credential.ended', { agentId: a.id })
    expect(h.deps.credentials.size).toBe(size - 1)
    expect((await h.deps.routes.agent(a.id))?.endpointUrl).toBe('http://127.0.0.1:9/old')
  })

  test('a PATCH sends route.changed, and credential.ended only when it deactivates or archives', async () => {
    const seen: string[] = []
    const offs = (['route.changed', 'credential.ended', 'presence.changed'] as const).map((t) =>
      h.deps.bus.subscribe(t, () => seen.push(t)),
    )
    const a = await registerAgent(h, ws.key)
    await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { description: 'x' } })
    expect(seen).toEqual(['route.changed'])
    seen.length = 0
    await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { status: 'inactive' } })
    expect(seen.sort()).toEqual(['credential.ended', 'route.changed'])
    seen.length = 0
    await h.call('POST', `/api/agents/${a.id}/rotate-token`, { token: ws.key, body: {} })
    expect(seen).toEqual(['credential.ended'])
    for (const off of offs) off()
  })
})
