import { createHmac } from 'node:crypto'
import { count, eq } from 'drizzle-orm'
import type { Deps } from '../../src/deps'
import { upstream } from '../helpers'

/** GitHub's signature: `sha256=` + hex HMAC-SHA256 of the raw body under the shared secret. */
export const githubSignature = (secret: string, body: string | Uint8Array) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

/** Stripe's: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const stripeSignature = (secret: string, body: string, at = Math.floor(Date.now() / 1000)) =>
  `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')}`

export type Seen = { path: string; headers: Record<string, string>; body: string }

/** An agent's endpoint: keeps every delivery, answers 200 with a small JSON result. */
export function agentEndpoint() {
  const seen: Seen[] = []
  const server = upstream(async (req) => {
    seen.push({
      path: new URL(req.url).pathname,
      headers: Object.fromEntries(req.headers),
      body: await req.text(),
    })
    return Response.json({ handled: true })
  })
  return { ...server, seen }
}

/** What a call could have stored: the workspace's jobs, the trigger's call log, the workspace's events. */
export async function stored(deps: Deps, workspaceId: string, triggerId: string) {
  const { jobs: j, triggerCalls: c, events: e } = deps.db.t
  const [jobs] = await deps.db.orm.select({ n: count() }).from(j).where(eq(j.workspaceId, workspaceId))
  const [calls] = await deps.db.orm.select({ n: count() }).from(c).where(eq(c.triggerId, triggerId))
  const [events] = await deps.db.orm.select({ n: count() }).from(e).where(eq(e.workspaceId, workspaceId))
  return { jobs: Number(jobs!.n), calls: Number(calls!.n), events: Number(events!.n) }
}
