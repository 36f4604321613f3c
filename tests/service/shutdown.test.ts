import { expect, test } from 'bun:test'
import { createWorkspace } from '../../src/modules/workspaces/service'
import { startServer } from '../../src/server'
import { testConfig, upstream } from '../helpers'

test('stop(): in-flight requests finish, new connections are refused, the database closes', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  const agent = upstream(async () => {
    await gate
    return new Response('finished')
  })
  const sb = await startServer(
    testConfig({ SWITCHBOARD_BOOTSTRAP: 'false', SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: '10' }),
  )
  const { apiKey } = await createWorkspace({
    deps: sb.deps,
    actor: { kind: 'admin' },
    input: { name: `sd-${Date.now()}` },
  })
  const post = async (path: string, body: unknown) =>
    (await fetch(`${sb.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(body),
    }).then((r) => r.json())) as any
  const a = await post('/api/agents', { name: 'a' })
  const b = await post('/api/agents', { name: 'b', endpointUrl: agent.url })
  const conn = await post('/api/connections', {
    agentId: a.agent.id,
    targetAgentId: b.agent.id,
    type: 'private',
  })

  const inflight = fetch(`${sb.url}/api/proxy/${conn.id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${a.token}` },
  })
  await Bun.sleep(100)
  const stopping = sb.stop()
  await Bun.sleep(100)
  // New connections are no longer accepted while the old request is still running.
  const late = await fetch(`${sb.url}/healthz`).then(
    (r) => r.status,
    () => 'refused',
  )
  expect(late).toBe('refused')
  release()
  const res = await inflight
  expect(res.status).toBe(200)
  expect(await res.text()).toBe('finished')
  await stopping
  await expect(sb.deps.db.ping()).rejects.toThrow()
})
