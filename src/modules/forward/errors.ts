import { AppError } from '../../lib/errors'
import type { ForwardFailure } from './engine'

/**
 * An outbound failure as a caller of the lanes sees it: a timeout is 504 on the sync lane
 * (`gateway_timeout`), 502 on the others; everything else 502, saying what went wrong.
 * `upstream` names what was called ("agent" on the lanes, "app" for an app connection).
 */
export function upstreamError(
  f: ForwardFailure,
  timeoutCode: 'gateway_timeout' | 'bad_gateway' = 'gateway_timeout',
  upstream = 'agent',
): AppError {
  switch (f.kind) {
    case 'timeout':
      return new AppError(timeoutCode, `The ${upstream} did not answer in time (${f.message})`)
    case 'refused':
      return new AppError('bad_gateway', `The ${upstream}'s address is not allowed: ${f.message}`, {
        rule: f.rule,
      })
    case 'unresolvable':
      return new AppError('bad_gateway', `The ${upstream}'s host does not resolve: ${f.message}`)
    case 'aborted':
      return new AppError('bad_gateway', 'The call was aborted')
    case 'network':
      return new AppError('bad_gateway', `The ${upstream} could not be reached: ${f.message}`)
    case 'too_large':
      return tooLarge(f.limitBytes)
  }
}

/**
 * The same failure for a caller who may not learn where the agent lives (the relays): the
 * kind of failure, never the address, the host name or the rule that refused it.
 */
export function discreetUpstreamError(f: ForwardFailure): AppError {
  switch (f.kind) {
    case 'timeout':
      return new AppError('gateway_timeout', 'The agent did not answer in time')
    case 'too_large':
      return tooLarge(f.limitBytes)
    case 'aborted':
      return new AppError('bad_gateway', 'The call was aborted')
    default:
      return new AppError('bad_gateway', 'The agent could not be reached')
  }
}

const tooLarge = (limit: number) =>
  new AppError('payload_too_large', `The request body is larger than ${limit} bytes`, { limitBytes: limit })
