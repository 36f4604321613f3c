import { expect, test } from 'bun:test'
import { liveServer } from './live'

// The per-IP limit on: 2 at once, then one every 2 s.
const live = await liveServer({
  SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0.5',
  SWITCHBOARD_RATE_LIMIT_IP_BURST: '2',
})
const ws = await live.workspace()

test('upgrades with a good ?token= are not limited per IP (agents behind one NAT reconnect at once)', async () => {
  const sockets = []
  for (let i = 0; i < 6; i++) {
    const s = await live.socket(`?token=${ws.key}`)
    expect((await s.ready()).type).toBe('ready')
    sockets.push(s)
  }
  await Promise.all(sockets.map((s) => s.close()))
})

test('a failed ?token= counts against the IP like any failed credential', async () => {
  const statuses: number[] = []
  for (let i = 0; i < 4; i++)
    statuses.push((await live.upgrade('?token=wk_notarealkeynotarealkeynotarealkey0000')).status)
  expect(statuses.slice(0, 2)).toEqual([401, 401])
  expect(statuses.at(-1)).toBe(429)
})
