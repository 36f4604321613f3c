import { describe, expect, test } from 'bun:test'
import postgres from 'postgres'

/**
 * postgres-js sends a cancel request over a new connection and drops the promise of it
 * (`Query.cancel()` returns null), so when that connection fails — the database restarting,
 * which is when our statement timeout cancels queries — the rejection is unhandled and ends
 * the process. scripts/patch-deps.mjs settles it (ADR 0007). Here the cancel request meets a
 * refused port: a local TCP relay in front of the real Postgres that stops listening after
 * the query's own connection is open.
 */
const url = process.env.DATABASE_URL
const pg = url?.startsWith('postgres') ? new URL(url) : null

describe.skipIf(!pg)('a cancel request that cannot connect', () => {
  test('is settled, not an unhandled rejection; the query still answers', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown) => unhandled.push(e)
    process.on('unhandledRejection', onUnhandled)
    type Pair = { peer?: import('bun').Socket<Pair>; pending: Uint8Array[] }
    const relay = Bun.listen<Pair>({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        async open(client) {
          client.data = { pending: [] }
          const upstream = await Bun.connect<Pair>({
            hostname: pg!.hostname,
            port: Number(pg!.port || 5432),
            socket: {
              data: (_s, chunk) => void client.write(chunk),
              close: () => void client.end(),
              error: () => void client.end(),
            },
            data: { peer: client, pending: [] },
          })
          client.data.peer = upstream
          for (const c of client.data.pending) upstream.write(c)
        },
        data(client, chunk) {
          if (client.data.peer) client.data.peer.write(chunk)
          else client.data.pending.push(new Uint8Array(chunk))
        },
        close: (client) => void client.data.peer?.end(),
      },
    })
    const target = new URL(url!)
    target.hostname = '127.0.0.1'
    target.port = String(relay.port)
    const sql = postgres(target.toString(), { max: 1, onnotice: () => {} })
    try {
      expect([...(await sql`select 1 as one`)]).toEqual([{ one: 1 }])
      relay.stop(false) // new connections (the cancel request's) are refused; the open one stays
      const q = sql`select pg_sleep(0.5) as slept`
      const answer = q.then(
        () => 'answered',
        (e: { code?: string }) => `failed ${e.code}`,
      )
      await Bun.sleep(100)
      await Promise.resolve(q.cancel()).catch(() => {})
      // The cancel never reached Postgres: the query runs to its end.
      expect(await answer).toBe('answered')
      await Bun.sleep(200)
      expect(unhandled.map(String)).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      await sql.end({ timeout: 1 })
      relay.stop(true)
    }
  })
})
