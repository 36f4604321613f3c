import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'

describe('live-layer settings', () => {
  test('defaults', () => {
    const c = loadConfig({})
    expect(c.live).toEqual({
      authTimeoutMs: 5000,
      pingMs: 30_000,
      maxBufferBytes: 4_194_304,
      resyncMs: 3000,
      maxPerCredential: 100,
    })
    expect(c.retention).toEqual({ eventHours: 168, eventsPerWorkspace: 100_000, cron: '0 */5 * * * *' })
    expect(c.messages).toEqual({ defaultTtlSeconds: 604_800, purgeCron: '30 * * * * *' })
    expect(c.healthSpread).toBe(0.8)
  })

  test('each bad value is named', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ SWITCHBOARD_WS_MAX_BUFFER_BYTES: '100' }, /^SWITCHBOARD_WS_MAX_BUFFER_BYTES: /],
      [{ SWITCHBOARD_WS_PING_SECONDS: '0' }, /^SWITCHBOARD_WS_PING_SECONDS: /],
      [{ SWITCHBOARD_WS_AUTH_TIMEOUT_MS: 'soon' }, /^SWITCHBOARD_WS_AUTH_TIMEOUT_MS: /],
      [{ SWITCHBOARD_WS_MAX_PER_CREDENTIAL: '0' }, /^SWITCHBOARD_WS_MAX_PER_CREDENTIAL: /],
      [{ SWITCHBOARD_HEALTH_SPREAD: '1.5' }, /^SWITCHBOARD_HEALTH_SPREAD: /],
      [{ SWITCHBOARD_EVENTS_RETENTION_HOURS: '0' }, /^SWITCHBOARD_EVENTS_RETENTION_HOURS: /],
      [{ SWITCHBOARD_EVENTS_MAX_PER_WORKSPACE: '5' }, /^SWITCHBOARD_EVENTS_MAX_PER_WORKSPACE: /],
      [{ SWITCHBOARD_MESSAGE_TTL_SECONDS: '9999999' }, /^SWITCHBOARD_MESSAGE_TTL_SECONDS: /],
      [{ SWITCHBOARD_RETENTION_CRON: 'hourly' }, /^SWITCHBOARD_RETENTION_CRON: expected a cron pattern/],
      [{ SWITCHBOARD_MESSAGE_PURGE_CRON: 'x' }, /^SWITCHBOARD_MESSAGE_PURGE_CRON: expected a cron pattern/],
    ]
    for (const [env, message] of bad) {
      let error: unknown
      try {
        loadConfig(env)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toMatch(message)
    }
  })
})
