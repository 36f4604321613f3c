/**
 * Cost of the pinned client against the bare fetch it wraps, and against the other way to pin
 * (node:http with a custom lookup). The upstream runs in its own process on 127.0.0.1. Variants
 * take turns over several rounds and the median is shown, since a 2-core machine is noisy.
 *
 *   bun tests/outbound/bench.ts [requests=5000] [rounds=5]
 */
import http from 'node:http'
import type { LookupFunction } from 'node:net'
import { createOutboundClient } from '../../src/lib/outbound/client'

if (process.argv[2] === 'upstream') {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } }),
  })
  console.log(server.port)
} else {
  await main(Number(process.argv[2] ?? 5000), Number(process.argv[3] ?? 5))
}

async function main(n: number, rounds: number) {
  const child = Bun.spawn([process.execPath, import.meta.path, 'upstream'], { stdout: 'pipe' })
  const reader = child.stdout.getReader()
  const port = Number(new TextDecoder().decode((await reader.read()).value).trim())
  reader.releaseLock()

  const client = createOutboundClient({
    allowedNetworks: ['127.0.0.0/8'],
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
  })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const pinTo127: LookupFunction = (_host, opts, cb) => {
    if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }])
    else cb(null, '127.0.0.1', 4)
  }
  const drain = async (res: Response) => void (await res.arrayBuffer())

  const variants: Record<string, () => Promise<void>> = {
    'fetch, bare (baseline)': async () => drain(await fetch(`http://127.0.0.1:${port}/`)),
    'send, name (cached DNS)': async () => {
      const r = await client.send({ url: `http://agent.test:${port}/` })
      if (!r.ok) throw new Error(r.message)
      await drain(r.response)
    },
    'send, literal IP': async () => {
      const r = await client.send({ url: `http://127.0.0.1:${port}/` })
      if (!r.ok) throw new Error(r.message)
      await drain(r.response)
    },
    'node:http + lookup': () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(`http://agent.test:${port}/`, { agent, lookup: pinTo127 }, (res) => {
          res.on('data', () => {})
          res.on('end', resolve)
        })
        req.on('error', reject)
        req.end()
      }),
  }

  const results = new Map(
    Object.keys(variants).map((name) => [name, { seq: [] as number[], conc: [] as number[] }]),
  )
  try {
    for (const once of Object.values(variants)) for (let i = 0; i < 500; i++) await once()
    for (let round = 0; round < rounds; round++) {
      for (const [name, once] of Object.entries(variants)) {
        const r = results.get(name)!
        r.seq.push(
          await rate(n, async () => {
            for (let i = 0; i < n; i++) await once()
          }),
        )
        let left = n * 2
        r.conc.push(
          await rate(n * 2, () =>
            Promise.all(
              Array.from({ length: 64 }, async () => {
                while (left-- > 0) await once()
              }),
            ),
          ),
        )
      }
    }
    for (const [name, r] of results) {
      console.log(
        `${name.padEnd(26)} sequential ${median(r.seq)} req/s   64 concurrent ${median(r.conc)} req/s`,
      )
    }
  } finally {
    agent.destroy()
    child.kill()
  }
}

async function rate(count: number, run: () => Promise<unknown>) {
  const start = performance.now()
  await run()
  return count / ((performance.now() - start) / 1000)
}

function median(xs: number[]) {
  return String(Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)).padStart(6)
}
