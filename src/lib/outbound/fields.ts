import { AppError } from '../errors'
import type { OutboundClient } from './client'

/** How long a save waits for DNS before accepting a name as "does not resolve yet". */
const DNS_WAIT_MS = 3000

/**
 * The outbound guard's verdict on URLs a caller saves (`[field, url]` pairs). A URL the guard
 * refuses (loopback, private, metadata… unless SWITCHBOARD_ALLOWED_NETWORKS allows it) is a 400
 * that names the field and the rule; a name that does not resolve yet is accepted — every call
 * checks again. Run it before a transaction: DNS is network I/O.
 */
export async function refuseGuardedUrls(outbound: Pick<OutboundClient, 'check'>, urls: [string, string][]) {
  await Promise.all(
    urls.map(async ([field, url]) => {
      const verdict = await outbound.check(url, AbortSignal.timeout(DNS_WAIT_MS)).catch(() => null)
      if (!verdict || verdict.ok || verdict.reason === 'unresolvable') return
      throw new AppError('invalid_url', `${field} is refused (${verdict.reason}): ${verdict.message}`, {
        field,
        rule: verdict.reason,
      })
    }),
  )
}
