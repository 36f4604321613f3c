import { describe, expect, test } from 'bun:test'
import { type Harness, harness, upstream } from '../helpers'
import { connected, waitFor } from '../jobs/fixtures'

/**
 * No absolute URL handed to an agent may come from request headers: an agent that reports
 * to its status URL, as the README says to, would hand its token to whoever set `Host`.
 * Without SWITCHBOARD_PUBLIC_URL the path alone is handed out; with it, that origin.
 */
const seen = new Map<string, string | null>()
const agent = upstream((req) => {
  const job = req.headers.get('x-switchboard-job-id')
  if (job) seen.set(job, req.headers.get('x-switchboard-job-status-url'))
  return new Response('later', { status: 202 })
})

/** An async call whose request says it was made to `attacker.example`. */
async function hostileAsyncCall(h: Harness) {
  const ws = await h.workspace()
  const { caller, conn } = await connected(h.call, ws.key, { endpointUrl: agent.url })
  const res = await h.app.handle(
    new Request(`http://attacker.example/api/proxy/${conn.id}/async`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${caller.token}`,
        host: 'attacker.example',
        'x-forwarded-host': 'attacker.example',
        'x-forwarded-proto': 'https',
        'content-type': 'application/json',
      },
      body: '{}',
    }),
  )
  expect(res.status).toBe(202)
  const body = (await res.json()) as { jobId: string; poll_url: string }
  const statusUrl = await waitFor(async () => seen.get(body.jobId), 'the delivery')
  return { body, statusUrl, location: res.headers.get('location') }
}

const plain = await harness()
const configured = await harness({ env: { SWITCHBOARD_PUBLIC_URL: 'https://sb.example.com' } })

describe('SWITCHBOARD_PUBLIC_URL unset (the default)', () => {
  test('the job status URL the agent receives is the path alone, whatever Host says', async () => {
    const { body, statusUrl, location } = await hostileAsyncCall(plain)
    expect(statusUrl).toBe(`/api/jobs/${body.jobId}`)
    expect(statusUrl).not.toContain('attacker')
    expect(body.poll_url).toBe(`/api/jobs/${body.jobId}`)
    expect(location).toBe(body.poll_url)
  })
})

describe('SWITCHBOARD_PUBLIC_URL set', () => {
  test('the status URL uses the configured origin, never the request’s', async () => {
    const { body, statusUrl } = await hostileAsyncCall(configured)
    expect(statusUrl).toBe(`https://sb.example.com/api/jobs/${body.jobId}`)
  })
})

describe('relay cards', () => {
  test('the card composed for an agent names the relay, never the host the request claimed', async () => {
    const ws = await plain.workspace()
    const nocard = upstream(() => new Response('no card here', { status: 404 }))
    const reg = await plain.call('POST', '/api/agents', {
      token: ws.key,
      body: {
        name: 'carded',
        externalInvocation: true,
        protocols: { a2a: { enabled: true, url: `${nocard.url}/a2a` } },
      },
    })
    expect(reg.status).toBe(201)
    const pid = reg.body.agent.permanentId
    const res = await plain.app.handle(
      new Request(`http://attacker.example/relay/${pid}/.well-known/agent-card.json`, {
        headers: { host: 'attacker.example', 'x-forwarded-host': 'attacker.example' },
      }),
    )
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain(`/relay/${pid}/a2a`)
    expect(text).not.toContain('attacker')
  })
})
