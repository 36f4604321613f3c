import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'

describe('pool settings', () => {
  test('defaults: 5 consecutive failures eject for 30 s; the lane timeouts and body limit', () => {
    const c = loadConfig({})
    expect(c.poolEjection).toEqual({ failures: 5, ms: 30_000 })
    expect(c.timeouts.broadcastMs).toBe(30_000)
    expect(c.timeouts.poolMs).toBe(60_000)
    expect(c.bufferedBodyBytes).toBe(1_048_576)
  })

  test('set by env; 0 failures turns ejection off', () => {
    const c = loadConfig({ SWITCHBOARD_POOL_EJECT_FAILURES: '0', SWITCHBOARD_POOL_EJECT_SECONDS: '90' })
    expect(c.poolEjection).toEqual({ failures: 0, ms: 90_000 })
  })

  test('a bad value stops start-up with the variable named', () => {
    for (const [env, name] of [
      [{ SWITCHBOARD_POOL_EJECT_FAILURES: '-1' }, 'SWITCHBOARD_POOL_EJECT_FAILURES'],
      [{ SWITCHBOARD_POOL_EJECT_FAILURES: 'five' }, 'SWITCHBOARD_POOL_EJECT_FAILURES'],
      [{ SWITCHBOARD_POOL_EJECT_FAILURES: '2.5' }, 'SWITCHBOARD_POOL_EJECT_FAILURES'],
      [{ SWITCHBOARD_POOL_EJECT_SECONDS: '0' }, 'SWITCHBOARD_POOL_EJECT_SECONDS'],
      [{ SWITCHBOARD_POOL_EJECT_SECONDS: '3601' }, 'SWITCHBOARD_POOL_EJECT_SECONDS'],
    ] as const) {
      expect(() => loadConfig(env)).toThrow(ConfigError)
      expect(() => loadConfig(env)).toThrow(new RegExp(`^${name}: `))
    }
  })
})
