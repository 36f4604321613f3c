import { describe, expect, test } from 'bun:test'
import { eventually, liveServer, TestSocket } from '../ws/live'

/**
 * One credential cannot hold an unbounded number of live sockets (3,000 from one key
 * exhausted the instance), and a client cannot mint metrics series by closing with codes of
 * its choosing.
 */
const live = await liveServer({ SWITCHBOARD_WS_MAX_PER_CREDENTIAL: '3' })
const ws = await live.workspace()

const open = async (query: string) => {
  const s = await live.socket(query)
  await s.ready()
  return s
}

describe('live sockets per credential', () => {
  test('past the cap an upgrade is a 429 and an auth frame closes with 4029; another key is not affected', async () => {
    const held = [
      await open(`?token=${ws.key}`),
      await open(`?token=${ws.key}`),
      await open(`?token=${ws.key}`),
    ]
    const refused = await live.upgrade(`?token=${ws.key}`)
    expect(refused.status).toBe(429)
    const body = (await refused.json()) as { code: string; details: { setting: string } }
    expect(body.code).toBe('quota_exceeded')
    expect(body.details.setting).toBe('SWITCHBOARD_WS_MAX_PER_CREDENTIAL')
    const byHeader = await live.upgrade('', { authorization: `Bearer ${ws.key}` })
    expect(byHeader.status).toBe(429)

    const framed = await TestSocket.open(live.wsUrl)
    framed.send({ type: 'auth', token: ws.key })
    expect((await framed.closed).code).toBe(4029)

    // An agent of the workspace has a budget of its own.
    const agent = await live.agent(ws.key)
    const mine = await open(`?token=${agent.token}`)

    // A socket that closes frees its place.
    await held[0]!.close()
    const again = await eventually(async () => {
      const r = await live.upgrade(`?token=${ws.key}`)
      return r.status === 101 ? r : null
    })
    expect(again.status).toBe(101)
    for (const s of [...held.slice(1), mine]) await s.close()
  })
})

describe('close codes in the metrics', () => {
  test('codes a client picks do not each become a series', async () => {
    for (let code = 4100; code < 4160; code++) {
      const s = await open(`?token=${(await live.agent(ws.key)).token}`)
      s.ws.close(code, 'mine')
      await s.closed
    }
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${live.base}/metrics`)).text()
      return text.includes('switchboard_ws_closed_total{code="other"}') ? text : null
    })
    const series = metrics.split('\n').filter((l) => l.startsWith('switchboard_ws_closed_total{'))
    expect(series.some((l) => l.includes('code="41'))).toBe(false)
    expect(series.length).toBeLessThanOrEqual(20)
  })
})
