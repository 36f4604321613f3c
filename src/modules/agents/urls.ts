import type { Deps } from '../../deps'
import { AppError } from '../../lib/errors'
import type { RegisterInput } from './model'

/** How long registration waits for DNS before accepting a name as "does not resolve yet". */
const DNS_WAIT_MS = 3000

type Urls = Pick<RegisterInput, 'endpointUrl' | 'webhookUrl' | 'protocols'>

/**
 * The outbound guard's verdict on every URL an agent registers. A URL the guard refuses
 * (loopback, private, metadata… unless SWITCHBOARD_ALLOWED_NETWORKS allows it) is a 400
 * that names the rule; a name that does not resolve yet is accepted — every call checks again.
 * Runs before the transaction: DNS is network I/O.
 */
export async function checkAgentUrls(deps: Pick<Deps, 'outbound'>, input: Partial<Urls>) {
  const urls: [string, string][] = []
  if (input.endpointUrl) urls.push(['endpointUrl', input.endpointUrl])
  if (input.webhookUrl) urls.push(['webhookUrl', input.webhookUrl])
  for (const [name, p] of Object.entries(input.protocols ?? {}))
    if (p?.url) urls.push([`protocols.${name}.url`, p.url])
  await Promise.all(
    urls.map(async ([field, url]) => {
      const verdict = await deps.outbound.check(url, AbortSignal.timeout(DNS_WAIT_MS)).catch(() => null)
      if (!verdict || verdict.ok || verdict.reason === 'unresolvable') return
      throw new AppError('invalid_url', `${field} is refused (${verdict.reason}): ${verdict.message}`, {
        field,
        rule: verdict.reason,
      })
    }),
  )
}
