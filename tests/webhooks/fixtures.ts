import { Webhook } from 'standardwebhooks'
import { upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'

export type Hit = { path: string; headers: Record<string, string>; body: string; frame: any }

/**
 * A real local receiver for agent webhooks: every request is kept (path, headers, raw body,
 * parsed frame); `respond` decides the answer (default 204).
 */
export function receiver(
  respond: (req: Request, hit: Hit) => Response | Promise<Response> = () =>
    new Response(null, { status: 204 }),
) {
  const hits: Hit[] = []
  const server = upstream(async (req) => {
    const body = await req.text()
    let frame: any = null
    try {
      frame = JSON.parse(body)
    } catch {}
    const hit = { path: new URL(req.url).pathname, headers: Object.fromEntries(req.headers), body, frame }
    hits.push(hit)
    return respond(req, hit)
  })
  const at = (path: string) => hits.filter((h) => h.path === path)
  return {
    ...server,
    hits,
    at,
    /** Waits until the path has seen a frame that matches. */
    until: (path: string, pred: (frame: any) => boolean, what = `a webhook at ${path}`) =>
      waitFor(async () => at(path).find((h) => pred(h.frame)), what),
  }
}

/** Verifies a hit as a receiver would, with the reference library; returns the parsed body. */
export function verified(secret: string, hit: Pick<Hit, 'body' | 'headers'>): any {
  return new Webhook(secret).verify(hit.body, hit.headers)
}
