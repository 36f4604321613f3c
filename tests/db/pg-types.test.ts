import { describe, expect, test } from 'bun:test'
import net from 'node:net'
import postgres from 'postgres'

/**
 * On every new connection postgres-js fetches the array types and drops the promise of that
 * query (`fetchArrayTypes()` is called and not awaited), so a connection lost while it runs —
 * the database going down just after it accepted the connection, which a restart does — is an
 * unhandled rejection that ends the process (`read ECONNRESET` in the restart fault test).
 * scripts/patch-deps.mjs settles it (ADR 0007). Here a local TCP relay in front of the real
 * Postgres cuts the first connection the moment the type query goes through it.
 */
const url = process.env.DATABASE_URL
const pg = url?.startsWith('postgres') ? new URL(url) : null

describe.skipIf(!pg)('a connection lost while the driver fetches array types', () => {
  test('is settled, not an unhandled rejection; the next query answers', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown) => unhandled.push(e)
    process.on('unhandledRejection', onUnhandled)
    let cuts = 0
    // node:net for the client side: resetAndDestroy() sends a TCP reset, as a database killed
    // mid-query does, so the driver sees ECONNRESET and not an orderly close.
    const relay = net.createServer((client) => {
      const upstream = net.connect(Number(pg!.port || 5432), pg!.hostname)
      upstream.on('error', () => client.destroy())
      upstream.on('close', () => client.destroy())
      upstream.on('data', (chunk) => client.write(chunk))
      client.on('error', () => upstream.destroy())
      client.on('close', () => upstream.destroy())
      client.on('data', (chunk) => {
        if (cuts === 0 && chunk.includes('typcategory')) {
          cuts++
          client.resetAndDestroy()
          return
        }
        upstream.write(chunk)
      })
    })
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
    const target = new URL(url!)
    target.hostname = '127.0.0.1'
    target.port = String((relay.address() as net.AddressInfo).port)
    const sql = postgres(target.toString(), { max: 1, onnotice: () => {}, backoff: () => 0.05 })
    try {
      // The query that opened the connection fails with the reset, as any query on a lost
      // connection does, and its caller sees it; nothing else does.
      const first = await sql`select 1 as one`.then(
        (rows) => [...rows],
        (e: { code?: string }) => e.code,
      )
      expect(first).toBe('ECONNRESET')
      expect(cuts).toBe(1)
      expect([...(await sql`select 1 as one`)]).toEqual([{ one: 1 }])
      // Array types still work: the next connection fetched them.
      expect([...(await sql`select ${[1, 2]}::int[] as xs`)]).toEqual([{ xs: [1, 2] }])
      await Bun.sleep(100)
      expect(unhandled.map(String)).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      await sql.end({ timeout: 1 })
      relay.close()
    }
  })
})
