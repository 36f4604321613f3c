import { gzipSync } from 'node:zlib'
import { type Harness, registerAgent, upstream } from '../helpers'

/** What the stand-in SaaS received, exactly as it arrived. */
export type Received = {
  method: string
  /** The request target as sent (path and query, not normalised by anyone). */
  target: string
  path: string
  query: URLSearchParams
  headers: Headers
  body: Uint8Array
}

/**
 * A stand-in SaaS on 127.0.0.1: records every request and answers by path.
 * `/echo…` answers what it received as JSON; the other paths answer one kind of body each.
 */
export function standInSaas() {
  const received: Received[] = []
  // `/gated…` requests wait until `gate.size` of them have arrived, then all answer 401.
  const gate = { size: 0, waiting: 0, open: null as (() => void) | null, opened: Promise.resolve() }
  const { url, server } = upstream(async (req) => {
    const u = new URL(req.url)
    const body = new Uint8Array(await req.arrayBuffer())
    // Bun hands the request target through; take it from the URL's own text after the origin.
    const target = req.url.slice(u.origin.length)
    received.push({
      method: req.method,
      target,
      path: u.pathname,
      query: u.searchParams,
      headers: req.headers,
      body,
    })
    const path = u.pathname.replace(/^\/api/, '')
    if (path.startsWith('/gated')) {
      if (++gate.waiting >= gate.size) gate.open?.()
      await gate.opened
      return Response.json({ error: 'expired' }, { status: 401 })
    }
    if (path.startsWith('/text'))
      return new Response('plain words', { headers: { 'content-type': 'text/plain' } })
    if (path.startsWith('/latin1'))
      return new Response(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), {
        headers: { 'content-type': 'text/plain; charset=iso-8859-1' },
      })
    if (path.startsWith('/binary'))
      return new Response(new Uint8Array([0, 1, 2, 0xff, 0xfe]), { headers: { 'content-type': 'image/png' } })
    if (path.startsWith('/empty')) return new Response(null, { status: 204 })
    if (path.startsWith('/redirect'))
      return new Response(null, { status: 302, headers: { location: `${u.origin}/api/elsewhere` } })
    if (path.startsWith('/headers'))
      return new Response('{}', {
        headers: {
          'content-type': 'application/json',
          'set-cookie': 'session=abc; HttpOnly',
          'x-rate-remaining': '41',
          'keep-alive': 'timeout=5',
          'cache-control': 'no-store',
        },
      })
    if (path.startsWith('/big'))
      return new Response('x'.repeat(1_100_000), { headers: { 'content-type': 'text/plain' } })
    if (path.startsWith('/gzip'))
      return new Response(gzipSync(JSON.stringify({ packed: true })), {
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      })
    if (path.startsWith('/deep'))
      return new Response(`${'['.repeat(2000)}${']'.repeat(2000)}`, {
        headers: { 'content-type': 'application/json' },
      })
    if (path.startsWith('/slow')) {
      await new Promise<void>((r) => req.signal.addEventListener('abort', () => r()))
      return new Response('late')
    }
    if (path.startsWith('/unauthorized'))
      return Response.json({ error: 'expired' }, { status: 401, headers: { 'www-authenticate': 'Bearer' } })
    if (path.startsWith('/status/'))
      return Response.json({ status: Number(path.slice(8)) }, { status: Number(path.slice(8)) })
    return Response.json({
      method: req.method,
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      contentType: req.headers.get('content-type'),
      body: new TextDecoder().decode(body),
    })
  })
  return {
    url,
    server,
    received,
    /** Holds `/gated` requests until `size` of them are waiting. */
    gate(size: number) {
      gate.size = size
      gate.waiting = 0
      gate.opened = new Promise<void>((r) => {
        gate.open = r
      })
    },
    /** Requests received since `mark()`. */
    mark() {
      const at = received.length
      return () => received.slice(at)
    },
  }
}

export type TokenRequest = { authorization: string | null; form: URLSearchParams }

/**
 * A local OAuth2 token endpoint that counts token requests and hands out `tok-<n>`. `hold` keeps
 * the first answer back until `release()` (or until `holdUntil` requests are waiting), so a test
 * can put many callers in front of one token request.
 */
export function tokenEndpoint(opts: { expiresIn?: number | null; status?: number; prefix?: string } = {}) {
  const requests: TokenRequest[] = []
  let hold: Promise<void> | null = null
  let release: (() => void) | null = null
  let holdUntil = Number.POSITIVE_INFINITY
  const state = {
    status: opts.status ?? 200,
    expiresIn: opts.expiresIn === undefined ? 3600 : opts.expiresIn,
  }
  const { url } = upstream(async (req) => {
    const form = new URLSearchParams(await req.text())
    requests.push({ authorization: req.headers.get('authorization'), form })
    const n = requests.length
    if (hold) {
      if (n >= holdUntil) release?.()
      await hold
    }
    if (state.status !== 200) return Response.json({ error: 'invalid_client' }, { status: state.status })
    const body: Record<string, unknown> = {
      access_token: `${opts.prefix ?? 'tok-'}${n}`,
      token_type: 'Bearer',
    }
    if (state.expiresIn !== null) body.expires_in = state.expiresIn
    return Response.json(body)
  })
  return {
    url: `${url}/oauth/token`,
    requests,
    state,
    /** Holds answers until `release()` is called or `until` requests are waiting. */
    hold(until = Number.POSITIVE_INFINITY) {
      holdUntil = until
      hold = new Promise<void>((r) => {
        release = () => {
          hold = null
          r()
        }
      })
      return () => release?.()
    },
  }
}

/** A workspace with an agent, for a suite's executes. */
export async function appWorkspace(h: Harness) {
  const ws = await h.workspace()
  const agent = await registerAgent(h, ws.key, { name: 'caller' })
  return { ws, agent }
}

/** Creates a connection and answers its id (throws on anything but 201). */
export async function createConnection(h: Harness, key: string, body: Record<string, unknown>) {
  const res = await h.call('POST', '/api/app-connections', {
    token: key,
    body: { name: `c-${crypto.randomUUID().slice(0, 8)}`, ...body },
  })
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`)
  return res.body as { id: string } & Record<string, any>
}

export const execute = (
  h: Harness,
  agent: { id: string; token: string },
  connectionId: string,
  body: unknown,
) =>
  h.call('POST', `/api/agents/${agent.id}/app-connections/${connectionId}/execute`, {
    token: agent.token,
    body,
  })
