import type { Deps } from '../../deps'
import { refuseGuardedUrls } from '../../lib/outbound/fields'
import type { RegisterInput } from './model'

type Urls = Pick<RegisterInput, 'endpointUrl' | 'webhookUrl' | 'protocols'>

/**
 * The outbound guard's verdict on every URL an agent registers (see `refuseGuardedUrls`): a
 * refused URL is a 400 naming the field and the rule; a name that does not resolve yet is fine.
 */
export async function checkAgentUrls(deps: Pick<Deps, 'outbound'>, input: Partial<Urls>) {
  const urls: [string, string][] = []
  if (input.endpointUrl) urls.push(['endpointUrl', input.endpointUrl])
  if (input.webhookUrl) urls.push(['webhookUrl', input.webhookUrl])
  for (const [name, p] of Object.entries(input.protocols ?? {}))
    if (p?.url) urls.push([`protocols.${name}.url`, p.url])
  await refuseGuardedUrls(deps.outbound, urls)
}
