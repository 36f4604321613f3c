import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/log'
import { PgBus } from '../../src/modules/events/pg-bus'
import { PrivatePg, privatePgUnavailable } from './pg'

/**
 * Notes between instances (a revoked token, a deleted agent) travel by LISTEN/NOTIFY. After
 * Postgres restarts, each instance must be listening again and hear the others — or a token
 * revoked on one instance keeps working on the other until its cache entry expires.
 */
const skip = privatePgUnavailable()
if (skip) console.warn(`faults/bus skipped: ${skip}`)

describe.skipIf(skip !== null)('the bus across a Postgres restart', () => {
  let pg: PrivatePg
  let a: PgBus
  let b: PgBus
  const log = createLogger('error', () => {})
  beforeAll(async () => {
    pg = await PrivatePg.create()
    a = new PgBus(pg.url(), log, 'bus-fault-a')
    b = new PgBus(pg.url(), log, 'bus-fault-b')
    await Promise.all([a.start(), b.start()])
  })
  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()])
    pg?.destroy()
  })

  const heard = async (n: number) => {
    const got: string[] = []
    const off = b.subscribe('credential.ended', (p) => got.push(p.keyId ?? ''))
    const deadline = Date.now() + 20_000
    try {
      while (!got.includes(`c-${n}`) && Date.now() < deadline) {
        a.publish('credential.ended', { keyId: `c-${n}` })
        await Bun.sleep(250)
      }
    } finally {
      off()
    }
    return got.includes(`c-${n}`)
  }

  test('a note from one instance reaches the other before and after each restart', async () => {
    expect(await heard(0)).toBe(true)
    for (const [i, mode] of (['fast', 'immediate', 'fast'] as const).entries()) {
      let stale = 0
      const off = b.subscribe('caches.stale', () => stale++)
      pg.restart(mode)
      expect({ restart: i + 1, mode, heard: await heard(i + 1) }).toEqual({
        restart: i + 1,
        mode,
        heard: true,
      })
      // Notes sent while it was not listening are lost: it forgot what it cached.
      expect(stale).toBeGreaterThan(0)
      off()
    }
  }, 120_000)
})
