import { describe, expect, test } from 'bun:test'
import { cronIntervalMs, decidePresence, type PresenceSignals } from '../../src/modules/presence/rules'

const now = new Date('2026-01-01T12:00:00Z')
const ago = (s: number) => new Date(now.getTime() - s * 1000)
const policy = { onlineWindowMs: 900_000, healthFreshMs: 120_000, socketFreshMs: 90_000 }
const none: PresenceSignals = {
  reportedStatus: null,
  lastHeartbeatAt: null,
  socketSeenAt: null,
  lastHealthOkAt: null,
  lastHealthCheckAt: null,
}

describe('decidePresence', () => {
  const cases: [string, Partial<PresenceSignals>, string, string][] = [
    ['no signal at all', {}, 'offline', 'no_signal'],
    ['fresh heartbeat online', { reportedStatus: 'online', lastHeartbeatAt: ago(10) }, 'online', 'heartbeat'],
    ['fresh heartbeat idle', { reportedStatus: 'idle', lastHeartbeatAt: ago(10) }, 'idle', 'heartbeat'],
    [
      'a fresh "offline" heartbeat wins over a passing health check',
      {
        reportedStatus: 'offline',
        lastHeartbeatAt: ago(10),
        lastHealthOkAt: ago(5),
        lastHealthCheckAt: ago(5),
      },
      'offline',
      'heartbeat',
    ],
    [
      'a fresh "offline" heartbeat wins over an open socket',
      { reportedStatus: 'offline', lastHeartbeatAt: ago(10), socketSeenAt: ago(1) },
      'offline',
      'heartbeat',
    ],
    [
      'expired heartbeat',
      { reportedStatus: 'online', lastHeartbeatAt: ago(901) },
      'offline',
      'heartbeat_expired',
    ],
    [
      'expired heartbeat, open socket',
      { reportedStatus: 'idle', lastHeartbeatAt: ago(901), socketSeenAt: ago(10) },
      'online',
      'websocket',
    ],
    [
      'passing health check',
      { lastHealthOkAt: ago(60), lastHealthCheckAt: ago(60) },
      'online',
      'health_check',
    ],
    [
      'one failed check after a recent pass does not flip',
      { lastHealthOkAt: ago(60), lastHealthCheckAt: ago(1) },
      'online',
      'health_check',
    ],
    [
      'no pass for two intervals',
      { lastHealthOkAt: ago(121), lastHealthCheckAt: ago(1) },
      'offline',
      'health_check_failed',
    ],
    ['stale socket', { socketSeenAt: ago(91) }, 'offline', 'no_signal'],
  ]
  for (const [name, signals, presence, reason] of cases) {
    test(name, () => {
      expect(decidePresence({ ...none, ...signals }, now, policy)).toEqual({ presence, reason } as never)
    })
  }
})

test('cronIntervalMs reads the interval of a pattern', () => {
  expect(cronIntervalMs('0 * * * * *')).toBe(60_000)
  expect(cronIntervalMs('*/5 * * * * *')).toBe(5_000)
})
