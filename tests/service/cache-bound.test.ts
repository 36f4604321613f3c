import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'
import { harness, registerAgent } from '../helpers'

/** SWITCHBOARD_CACHE_MAX_ENTRIES bounds each in-memory cache; a full one drops its oldest entry. */
const h = await harness({ env: { SWITCHBOARD_CACHE_MAX_ENTRIES: '3' } })
const ws = await h.workspace()

const metric = async (name: string, labels: string) => {
  const text = (await h.call('GET', '/metrics')).text
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `))
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}
const lookups = async (result: 'hit' | 'miss') =>
  metric('switchboard_cache_lookups_total', `cache="credentials",result="${result}"`)

describe('cache bound', () => {
  test('the credential cache holds at most the setting, drops the oldest first, and says so in /metrics', async () => {
    const agents = []
    for (let i = 0; i < 4; i++) agents.push(await registerAgent(h, ws.key, { name: `cached-${i}` }))
    // The workspace key, then four agent tokens: five credentials through a cache of three.
    for (const a of agents)
      expect((await h.call('GET', '/api/agents/me', { token: a.token })).status).toBe(200)
    expect(await metric('switchboard_cache_entries', 'cache="credentials"')).toBe(3)
    expect(await metric('switchboard_cache_max_entries', 'cache="credentials"')).toBe(3)
    expect(await metric('switchboard_cache_evictions_total', 'cache="credentials"')).toBe(2)

    // The newest three are still held: the last one is a hit.
    const [hits, misses] = [await lookups('hit'), await lookups('miss')]
    expect((await h.call('GET', '/api/agents/me', { token: agents[3]!.token })).status).toBe(200)
    expect(await lookups('hit')).toBe(hits + 1)
    expect(await lookups('miss')).toBe(misses)
    // The first token was dropped: it is loaded again (and still valid), dropping the next oldest.
    const me = await h.call('GET', '/api/agents/me', { token: agents[0]!.token })
    expect(me.status).toBe(200)
    expect(me.body.id).toBe(agents[0]!.id)
    expect(await lookups('miss')).toBe(misses + 1)
    expect(await metric('switchboard_cache_evictions_total', 'cache="credentials"')).toBe(3)
    expect(await metric('switchboard_cache_entries', 'cache="credentials"')).toBe(3)
  })

  test('a token rotated after its cache entry was dropped is refused', async () => {
    const a = await registerAgent(h, ws.key, { name: 'revoked-later' })
    expect((await h.call('GET', '/api/agents/me', { token: a.token })).status).toBe(200)
    // Three other credentials push it out of the cache.
    for (let i = 0; i < 3; i++) {
      const b = await registerAgent(h, ws.key, { name: `pusher-${i}` })
      await h.call('GET', '/api/agents/me', { token: b.token })
    }
    const rotated = await h.call('POST', `/api/agents/${a.id}/rotate-token`, { token: ws.key, body: {} })
    expect(rotated.status).toBe(200)
    expect((await h.call('GET', '/api/agents/me', { token: rotated.body.token })).status).toBe(200)
    expect((await h.call('GET', '/api/agents/me', { token: a.token })).status).toBe(401)
  })

  test('a bound that is not a positive whole number is refused at start', () => {
    for (const bad of ['0', '-1', '1.5', 'many'])
      expect(() => loadConfig({ SWITCHBOARD_CACHE_MAX_ENTRIES: bad })).toThrow(ConfigError)
    try {
      loadConfig({ SWITCHBOARD_CACHE_MAX_ENTRIES: '0' })
    } catch (e) {
      expect(String((e as Error).message)).toContain('SWITCHBOARD_CACHE_MAX_ENTRIES')
    }
  })
})
