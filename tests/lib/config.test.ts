import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'

describe('config', () => {
  test('defaults: SQLite at ./data/switchboard.db, port 8080', () => {
    const c = loadConfig({})
    expect(c.database).toEqual({ kind: 'sqlite', path: './data/switchboard.db', synchronous: 'normal' })
    expect(c.port).toBe(8080)
    expect(c.host).toBe('0.0.0.0')
    expect(c.onlineWindowMs).toBe(900_000)
    expect(c.apps).toEqual({ timeoutMs: 30_000, perWorkspace: 100 })
  })

  test('sqlite:PATH and postgres URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/tmp/x.db',
      synchronous: 'normal',
    })
    const pg = loadConfig({ DATABASE_URL: 'postgres://u@h/db', SWITCHBOARD_MASTER_KEY: 'ab'.repeat(32) })
    expect(pg.database).toMatchObject({ kind: 'pg', url: 'postgres://u@h/db', timeoutMs: 5000 })
  })

  test('sqlite: URLs are paths relative to the working directory unless absolute; the rest is refused', () => {
    const path = (url: string) => (loadConfig({ DATABASE_URL: url }).database as { path: string }).path
    expect(path('sqlite:rel.db')).toBe('rel.db')
    expect(path('sqlite://rel.db')).toBe('rel.db')
    expect(path('sqlite://data/sb.db')).toBe('data/sb.db')
    expect(path('sqlite:./data/sb.db')).toBe('./data/sb.db')
    expect(path('sqlite:///var/lib/sb.db')).toBe('/var/lib/sb.db')
    expect(path('sqlite::memory:')).toBe(':memory:')
    for (const bad of [
      'sqlite:',
      'sqlite://',
      'sqlite:///',
      'sqlite://data/',
      'sqlite:x.db?mode=ro',
      'sqlite:x#y',
    ]) {
      expect(() => loadConfig({ DATABASE_URL: bad })).toThrow(/^DATABASE_URL: expected sqlite:PATH/)
    }
  })

  test('SWITCHBOARD_SQLITE_SYNCHRONOUS: normal or full', () => {
    const c = loadConfig({ DATABASE_URL: 'sqlite:x.db', SWITCHBOARD_SQLITE_SYNCHRONOUS: 'full' })
    expect(c.database).toMatchObject({ synchronous: 'full' })
    expect(() => loadConfig({ SWITCHBOARD_SQLITE_SYNCHRONOUS: 'off' })).toThrow(
      /^SWITCHBOARD_SQLITE_SYNCHRONOUS: /,
    )
  })

  test('each bad value is named with what it expects', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /^PORT: /],
      [{ PORT: '70000' }, /^PORT: /],
      [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: expected unset, sqlite:PATH or postgres:/],
      [{ SWITCHBOARD_MASTER_KEY: 'short' }, /^SWITCHBOARD_MASTER_KEY: expected 32 bytes/],
      [{ SWITCHBOARD_ONLINE_WINDOW_SECONDS: '-1' }, /^SWITCHBOARD_ONLINE_WINDOW_SECONDS: /],
      [{ SWITCHBOARD_HEALTH_CRON: 'every minute' }, /^SWITCHBOARD_HEALTH_CRON: expected a cron pattern/],
      [{ SWITCHBOARD_ADMIN_TOKEN: 'short' }, /^SWITCHBOARD_ADMIN_TOKEN: must be at least 32/],
      [{ DATABASE_URL: 'postgres://u@h/db' }, /^SWITCHBOARD_MASTER_KEY: required with Postgres/],
      [{ SWITCHBOARD_APP_TIMEOUT_MS: '50' }, /^SWITCHBOARD_APP_TIMEOUT_MS: /],
      [
        { SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE: '0' },
        /^SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE: /,
      ],
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

  test('master key as hex or base64', () => {
    const b64 = Buffer.alloc(32, 7).toString('base64')
    expect(loadConfig({ SWITCHBOARD_MASTER_KEY: b64 }).masterKey).toHaveLength(32)
    expect(loadConfig({ SWITCHBOARD_MASTER_KEY: '0f'.repeat(32) }).masterKey).toHaveLength(32)
  })
})
