/**
 * The smallest client made from the OpenAPI document alone: openapi-fetch over the types
 * that openapi-typescript generated from /docs/json (src/schema.d.ts). It registers an agent
 * with a workspace key, heartbeats as that agent with its new token, and lists the agents.
 *
 *   bun sdk/examples/openapi-fetch.ts http://localhost:8080 wk_…
 */
import createClient from 'openapi-fetch'
import type { paths } from '../src/schema.js'

export async function registerHeartbeatList(
  baseUrl: string,
  workspaceKey: string,
  name = 'openapi-fetch-example',
) {
  const owner = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${workspaceKey}` } })

  const registered = await owner.POST('/api/agents', {
    body: { name, description: 'Made by sdk/examples/openapi-fetch.ts', capabilities: [{ name: 'echo' }] },
  })
  if (!registered.data) throw new Error(`register: ${registered.response.status} ${registered.error?.code}`)
  const { agent, token } = registered.data

  const runtime = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } })
  const beat = await runtime.POST('/api/agents/{agentId}/heartbeat', {
    params: { path: { agentId: agent.id } },
    body: { status: 'online' },
  })
  if (!beat.data) throw new Error(`heartbeat: ${beat.response.status} ${beat.error?.code}`)

  const listed = await owner.GET('/api/agents', { params: { query: { limit: 100, presence: 'online' } } })
  if (!listed.data) throw new Error(`list: ${listed.response.status} ${listed.error?.code}`)
  return { agent, heartbeat: beat.data, agents: listed.data.agents }
}

// Run as a script (Bun, or Node.js with a TypeScript loader).
declare const process: { argv: string[] }
if ((import.meta as { main?: boolean }).main) {
  const [baseUrl = 'http://localhost:8080', key = ''] = process.argv.slice(2)
  const { agent, heartbeat, agents } = await registerHeartbeatList(baseUrl, key)
  console.log(`registered ${agent.permanentId}, now ${heartbeat.presence}; ${agents.length} agents online`)
}
