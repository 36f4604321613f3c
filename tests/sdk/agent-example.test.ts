import { afterAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Switchboard } from '../../sdk/src/index'
import { liveServer } from '../helpers'
import { waitFor } from '../jobs/fixtures'

/** The README's twenty-line agent, run as its own process against a real server. */
const root = join(import.meta.dir, '../..')
const live = await liveServer()
const ws = await live.workspace()
const owner = new Switchboard({ baseUrl: live.url, token: ws.key })
const spawned: Bun.Subprocess[] = []
afterAll(() => {
  for (const p of spawned) p.kill()
})

test('the README shows examples/agent.ts as it is, in twenty lines', () => {
  const example = readFileSync(join(root, 'sdk/examples/agent.ts'), 'utf8')
  const readme = readFileSync(join(root, 'sdk/README.md'), 'utf8')
  expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``)
  expect(example.trimEnd().split('\n').length).toBeLessThanOrEqual(20)
})

test('it heartbeats, reads and marks its messages, runs its commands, and stops on SIGTERM', async () => {
  const { agent, token } = await owner.register({ name: 'example-agent' })
  const peer = await owner.register({ name: 'peer' })
  const proc = Bun.spawn([process.execPath, 'sdk/examples/agent.ts'], {
    cwd: root,
    env: { ...process.env, SWITCHBOARD_URL: live.url, AGENT_TOKEN: token },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  spawned.push(proc)
  let out = ''
  ;(async () => {
    for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk)
  })()
  await waitFor(async () => out.includes(`running as ${agent.permanentId}`), 'the agent to start')
  await waitFor(
    async () => (await owner.listAgents({ presence: 'online' })).agents.some((a) => a.id === agent.id),
    'its heartbeat',
  )

  // Its live subscription starts from now: wait until it holds an authenticated socket.
  await waitFor(
    async () =>
      /switchboard_ws_connections\{kind="agent"\} 1\b/.test((await live.call('GET', '/metrics')).text),
    'its live socket',
  )
  const peerSb = new Switchboard({ baseUrl: live.url, token: peer.token })
  await peerSb.sendMessage({ toAgentId: agent.id, payload: { hello: 'agent' } })
  await waitFor(
    async () => out.includes(`from ${peer.agent.id}:`) && out.includes('hello: "agent"'),
    'the message',
  )
  // Then marked read.
  await waitFor(
    async () => (await owner.inbox({ unreadOnly: 'true' }, { agentId: agent.id })).messages.length === 0,
    'the message marked read',
  )

  const queued = await live.call('POST', `/api/agents/${agent.id}/command`, {
    token: ws.key,
    body: { action: 'restart' },
  })
  await waitFor(async () => {
    const { commands } = await owner.commands({}, { agentId: agent.id })
    return commands.find((c) => c.id === queued.body.commandId && c.status === 'done')
  }, 'the command acknowledged').then((c) => expect(c.result).toEqual({ ran: 'restart' }))

  proc.kill('SIGTERM')
  expect(await proc.exited).toBe(0)
  const after = await live.call('GET', `/api/agents/${agent.id}`, { token: ws.key })
  expect(after.body.presence).toBe('offline')
})
