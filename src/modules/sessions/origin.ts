/**
 * Cross-site request forgery: a request that a browser sends with our cookie must come from
 * our own page. Browsers say where a request comes from in `Sec-Fetch-Site` (and, for every
 * state-changing request and every WebSocket upgrade, in `Origin`), and a page cannot forge
 * either.
 */
import type { Config } from '../../config'

/** Methods that change state; GET, HEAD and OPTIONS must not, so they are not checked. */
export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * True when the request comes from our own origin. `Sec-Fetch-Site`, when present, decides:
 * only `same-origin` passes (a sibling subdomain is `same-site`, and refused). Without it,
 * `Origin` must equal the public URL, or the origin the request was addressed to. Neither
 * header: refused — a browser always sends one of them on the requests checked here.
 */
export function fromOwnOrigin(request: Request, config: Pick<Config, 'publicUrl'>): boolean {
  const site = request.headers.get('sec-fetch-site')
  if (site !== null) return site === 'same-origin'
  const origin = request.headers.get('origin')
  if (origin === null || origin === 'null') return false
  if (config.publicUrl !== null && origin === config.publicUrl) return true
  return origin === new URL(request.url).origin
}
