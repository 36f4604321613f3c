import { AppError, invalid } from '../../lib/errors'

const JSON_WHITESPACE = new Set([0x20, 0x0a, 0x0d, 0x09])

export type Stripped = { body: Uint8Array; callbackUrl: string | null }

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Takes `_switchboard.callback_url` out of a JSON object body: Switchboard's instructions are
 * not the agent's business. Only such a body is re-serialised (other keys of `_switchboard`
 * stay; the object goes when it empties); any other body passes byte for byte.
 */
export function stripSwitchboardMeta(body: Uint8Array): Stripped {
  const unchanged = { body, callbackUrl: null }
  // Only a body that starts (after JSON whitespace) with `{` can be an object: skip parsing the rest.
  let first = 0
  while (JSON_WHITESPACE.has(body[first] ?? -1)) first++
  if (body[first] !== 0x7b) return unchanged
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    return unchanged
  }
  if (!isObject(parsed) || !Object.hasOwn(parsed, '_switchboard')) return unchanged
  const meta = parsed._switchboard
  if (!isObject(meta)) throw invalid('_switchboard must be an object')
  const { callback_url: url, ...rest } = meta
  if (url !== undefined && url !== null && typeof url !== 'string')
    throw invalid('_switchboard.callback_url must be a string')
  const out: Record<string, unknown> = { ...parsed }
  if (Object.keys(rest).length > 0) out._switchboard = rest
  else delete out._switchboard
  return { body: new TextEncoder().encode(JSON.stringify(out)), callbackUrl: url ?? null }
}

/** A callback URL must be http(s) and not refused by the outbound guard's rules. */
export function callbackUrlShape(raw: string): URL {
  const url = raw.length <= 2048 ? URL.parse(raw) : null
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new AppError('invalid_url', '_switchboard.callback_url must be an http or https URL')
  return url
}
