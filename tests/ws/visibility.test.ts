import { describe, expect, test } from 'bun:test'
import { appendEvent } from '../../src/modules/events/append'
import { liveServer, type TestSocket } from './live'

const live = await liveServer()
const A = await live.workspace()
const B = await live.workspace()
const a1 = await live.agent(A.key, { name: 'a1' })
const a2 = await live.agent(A.key, { name: 'a2' })
const b1 = await live.agent(B.key, { name: 'b1' })

const open = async (token: string) => {
  const s = await live.socket(`?token=${token}`)
  await s.ready()
  return s
}
const seen = (s: TestSocket) => s.events.map((e) => `${e.type}:${e.data.agentId}:${e.data.peer ?? ''}`)

describe('who sees what', () => {
  test('a workspace key sees its workspace; an agent token what concerns its agent (subject or peer)', async () => {
    const [wA, wB] = await Promise.all([open(A.key), open(B.key)])
    // One agent socket after the other: each one's presence event is written before the next
    // socket opens, so the order below does not depend on which socket was faster.
    const online = (s: TestSocket, agentId: string) =>
      s.until((f) => f.type === 'agent.status_changed' && f.data.agentId === agentId)
    const t1 = await open(a1.token)
    await online(wA, a1.id)
    const t2 = await open(a2.token)
    await online(wA, a2.id)
    const tb = await open(b1.token)
    await online(wB, b1.id)
    await live.heartbeat(a1, 'online')
    await live.heartbeat(a2, 'online')
    await live.heartbeat(b1, 'online')
    await live.call('POST', `/api/agents/${a1.id}/messages/send`, {
      token: a1.token,
      body: { toAgentId: a2.id, payload: { hi: 1 } },
    })
    // An event of workspace A about a1 with b1 (another workspace) as its peer, as a board
    // connection's job would append it.
    const deps = live.deps
    await deps.db.tx((tx) =>
      appendEvent(deps, tx, {
        workspaceId: A.id,
        type: 'job.created',
        agentId: a1.id,
        peerAgentId: b1.id,
        data: { agentId: a1.id, peer: b1.id },
      }),
    )
    // Barriers: a last change for each agent, after everything above.
    await live.heartbeat(a1, 'idle')
    await live.heartbeat(a2, 'idle')
    await live.heartbeat(b1, 'idle')
    const last = (s: TestSocket, agentId: string) =>
      s.until((f) => f.type === 'agent.status_changed' && f.data.agentId === agentId && f.data.to === 'idle')
    await Promise.all([
      last(wA, a1.id),
      last(wA, a2.id),
      last(wB, b1.id),
      last(t1, a1.id),
      last(t2, a2.id),
      last(tb, b1.id),
    ])

    const st = (id: string) => `agent.status_changed:${id}:`
    // a1 and a2 come online together (their sockets open side by side): either may be first.
    expect(seen(wA).slice(0, 2).sort()).toEqual([st(a1.id), st(a2.id)].sort())
    expect(seen(wA).slice(2)).toEqual([
      `message.received:${a2.id}:`,
      `job.created:${a1.id}:${b1.id}`,
      st(a1.id),
      st(a2.id),
    ])
    expect(seen(wB)).toEqual([st(b1.id), st(b1.id)])
    expect(seen(t1)).toEqual([st(a1.id), `job.created:${a1.id}:${b1.id}`, st(a1.id)])
    expect(seen(t2)).toEqual([st(a2.id), `message.received:${a2.id}:`, st(a2.id)])
    expect(seen(tb)).toEqual([st(b1.id), `job.created:${a1.id}:${b1.id}`, st(b1.id)])
    const message = wA.events.find((e) => e.type === 'message.received')!
    expect(message.data).toMatchObject({ from: a1.id, fromPermanentId: a1.permanentId, payload: { hi: 1 } })
    for (const s of [wA, wB, t1, t2, tb]) {
      const ids = s.events.map((e) => e.id!)
      expect(ids).toEqual([...ids].sort((x, y) => x - y))
      expect(s.events.every((e) => typeof e.at === 'string' && e.data)).toBe(true)
    }
    await Promise.all([wA, wB, t1, t2, tb].map((s) => s.close()))
  })

  test('{type:"subscribe"} filters by type and family, and "*" lifts the filter', async () => {
    const s = await open(A.key)
    s.send({ type: 'subscribe', types: ['message.received'] })
    expect(await s.until((f) => f.type === 'subscribed')).toEqual({
      type: 'subscribed',
      types: ['message.received'],
    })
    await live.heartbeat(a1, 'online')
    await live.call('POST', `/api/agents/${a2.id}/messages/send`, {
      token: A.key,
      body: { toAgentId: a1.id, payload: 'ping' },
    })
    await s.until((f) => f.type === 'message.received')
    s.send({ type: 'subscribe', types: ['agent.*'] })
    await s.until((f) => f.type === 'subscribed' && f.types[0] === 'agent.*')
    await live.call('POST', `/api/agents/${a2.id}/messages/send`, {
      token: A.key,
      body: { toAgentId: a1.id, payload: 'not seen' },
    })
    await live.heartbeat(a1, 'idle')
    await s.until((f) => f.type === 'agent.status_changed')
    s.send({ type: 'subscribe', types: ['*'] })
    await s.until((f) => f.type === 'subscribed' && f.types[0] === '*')
    await live.call('POST', `/api/agents/${a2.id}/messages/send`, {
      token: A.key,
      body: { toAgentId: a1.id, payload: 'seen again' },
    })
    await s.until((f) => f.type === 'message.received' && f.data.payload === 'seen again')
    expect(s.events.map((e) => e.type)).toEqual([
      'message.received',
      'agent.status_changed',
      'message.received',
    ])
    await s.close()
  })
})
