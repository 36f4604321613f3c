import { describe, expect, test } from 'bun:test'
import { harness, registerAgent, upstream } from '../helpers'
import { connected, waitFor } from '../jobs/fixtures'

/**
 * A list answer must not cost the server more memory than a page is worth: an agent's
 * metadata is bounded in bytes, and a page stops by bytes as well as by count (a smaller page
 * with a cursor to the rest).
 */
const caps = (n: number, kb: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `cap-${i}`, metadata: { v: 'm'.repeat(kb * 1024 - 16) } }))

const defaults = await harness()
const paged = await harness({ env: { SWITCHBOARD_MAX_PAGE_BYTES: '65536' } })

describe("an agent's metadata is bounded in bytes", () => {
  test('100 capabilities × 8 KB (800 KB on one agent) is a 413 by default', async () => {
    const ws = await defaults.workspace()
    const res = await defaults.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'fat', capabilities: caps(100, 8) },
    })
    expect(res.status).toBe(413)
    expect(res.body.code).toBe('payload_too_large')
    expect(res.body.error).toContain('SWITCHBOARD_MAX_AGENT_METADATA_BYTES')
  })

  test('growing an agent past the bound is refused on every route that can', async () => {
    const ws = await defaults.workspace()
    const a = await registerAgent(defaults, ws.key, { capabilities: caps(6, 8) })
    const put = await defaults.call('PUT', `/api/agents/${a.id}/capabilities`, {
      token: a.token,
      body: { capabilities: caps(9, 8) },
    })
    expect(put.status).toBe(413)
    const merge = await defaults.call('POST', `/api/agents/${a.id}/capabilities`, {
      token: ws.key,
      body: { capabilities: caps(9, 8).slice(6) },
    })
    expect(merge.status).toBe(413)
    const patch = await defaults.call('PATCH', `/api/agents/${a.id}`, {
      token: ws.key,
      body: { capabilities: caps(9, 8) },
    })
    expect(patch.status).toBe(413)
    // Nothing was changed by the refusals; a change that does not grow it still works.
    const now = await defaults.call('GET', `/api/agents/${a.id}`, { token: ws.key })
    expect(now.body.capabilities).toHaveLength(6)
    expect(
      (await defaults.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { status: 'inactive' } }))
        .status,
    ).toBe(200)
  })
})

describe('list pages are bounded by bytes', () => {
  test('agents: ?limit=500 of big agents comes back in pages under the budget, each agent once', async () => {
    const ws = await paged.workspace()
    const made: string[] = []
    for (let i = 0; i < 8; i++)
      made.push((await registerAgent(paged, ws.key, { capabilities: caps(3, 8) })).id)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: any = await paged.call('GET', `/api/agents?limit=500${cursor ? `&cursor=${cursor}` : ''}`, {
        token: ws.key,
      })
      expect(res.status).toBe(200)
      expect(res.text.length).toBeLessThan(65_536 + 30 * 1024)
      seen.push(...res.body.agents.map((x: any) => x.id))
      cursor = res.body.nextCursor
      pages++
    } while (cursor)
    expect(seen).toEqual(made)
    expect(pages).toBeGreaterThan(2)
    // The orchestration view pages the same way.
    const orch = await paged.call('GET', '/api/agents/orchestration?limit=500', { token: ws.key })
    expect(orch.body.agents.length).toBeLessThan(8)
    expect(orch.body.nextCursor).not.toBeNull()
  })

  test('jobs: big results page by bytes', async () => {
    const ws = await paged.workspace()
    const agent = upstream(() => Response.json({ big: 'r'.repeat(20 * 1024) }))
    const { caller, conn } = await connected(paged.call, ws.key, { endpointUrl: agent.url })
    for (let i = 0; i < 6; i++) {
      const res = await paged.call('POST', `/api/proxy/${conn.id}/async`, { token: caller.token, raw: '{}' })
      await waitFor(async () => {
        const j = await paged.call('GET', `/api/jobs/${res.body.jobId}`, { token: caller.token })
        return j.body.status === 'completed' ? j : undefined
      }, 'the job')
    }
    const first = await paged.call('GET', '/api/jobs?limit=500', { token: caller.token })
    expect(first.body.jobs.length).toBeLessThan(6)
    expect(first.body.nextCursor).not.toBeNull()
    const rest = await paged.call('GET', `/api/jobs?limit=500&cursor=${first.body.nextCursor}`, {
      token: caller.token,
    })
    expect(rest.status).toBe(200)
    expect(rest.body.jobs[0].id).not.toBe(first.body.jobs.at(-1).id)
  })

  test('messages: big payloads page by bytes', async () => {
    const ws = await paged.workspace()
    const a = await registerAgent(paged, ws.key)
    const b = await registerAgent(paged, ws.key)
    for (let i = 0; i < 6; i++) {
      const sent = await paged.call('POST', `/api/agents/${a.id}/messages/send`, {
        token: a.token,
        body: { toAgentId: b.id, payload: { n: i, pad: 'p'.repeat(20 * 1024) } },
      })
      expect(sent.status).toBe(200)
    }
    const got: number[] = []
    let cursor: string | null = null
    do {
      const res: any = await paged.call(
        'GET',
        `/api/agents/${b.id}/messages?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        {
          token: b.token,
        },
      )
      expect(res.body.messages.length).toBeLessThan(6)
      got.push(...res.body.messages.map((m: any) => m.payload.n))
      cursor = res.body.nextCursor
    } while (cursor)
    expect(got).toEqual([0, 1, 2, 3, 4, 5])
  })
})
