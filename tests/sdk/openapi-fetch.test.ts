import { expect, test } from 'bun:test'
import { registerHeartbeatList } from '../../sdk/examples/openapi-fetch'
import { liveServer } from '../helpers'

/** The openapi-fetch script, typed from the generated document types, against a real server. */
const live = await liveServer()

test('the generated client registers an agent, heartbeats as it and lists it online', async () => {
  const { key } = await live.workspace()
  const { agent, heartbeat, agents } = await registerHeartbeatList(live.url, key, 'from-openapi-fetch')
  expect(agent.permanentId).toMatch(/^agt-[a-z0-9]{8}$/)
  expect(agent.capabilities).toEqual([{ name: 'echo', metadata: {} }])
  expect(heartbeat).toMatchObject({ agentId: agent.id, status: 'online', presence: 'online', isOnline: true })
  // Listed with ?presence=online: the heartbeat took.
  expect(agents.map((a) => a.id)).toEqual([agent.id])
})

test('its errors are the documented Error schema', async () => {
  await expect(registerHeartbeatList(live.url, 'wk_not-a-key')).rejects.toThrow('register: 401 unauthorized')
})
