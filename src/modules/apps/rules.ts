/**
 * What keeps an app call inside its lane: the path stays under the connection's base URL, the
 * method and path are ones the connection allows, and the caller sets no credential of its own.
 * Pure: no I/O, no secret. Every refusal names its rule, and is decided before the secret is
 * unsealed (see execute.ts).
 */
export type AppRule =
  | 'relative_path'
  | 'absolute_url'
  | 'scheme_relative'
  | 'control_character'
  | 'malformed_escape'
  | 'too_many_encodings'
  | 'encoded_separator'
  | 'backslash'
  | 'dot_segment'
  | 'empty_segment'
  | 'query_in_path'
  | 'origin_changed'
  | 'outside_base_path'
  | 'method_not_allowed'
  | 'path_not_allowed'
  | 'forbidden_header'
  | 'invalid_header'
  | 'credential_query_parameter'
  | 'invalid_body'

export type Refusal = { ok: false; rule: AppRule; message: string }

const refuse = (rule: AppRule, message: string): Refusal => ({ ok: false, rule, message })

/** A path is decoded at most this many times; more layers of escapes than that is an attack. */
const MAX_DECODES = 4

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const SCHEME = /^[a-z][a-z0-9+.-]*:/i
const ENCODED_SEPARATOR = /%(2f|5c)/i

/** One decoding of a path judged on its own: the raw text, or what one more decoding made of it. */
function checkLayer(text: string, depth: number): Refusal | null {
  const after = depth === 0 ? '' : ` (after ${depth} decoding${depth > 1 ? 's' : ''})`
  if (CONTROL.test(text)) return refuse('control_character', `The path holds a control character${after}`)
  if (text.includes('\\')) return refuse('backslash', `The path holds a backslash${after}`)
  if (SCHEME.test(text)) return refuse('absolute_url', `The path is an absolute URL${after}; give a path`)
  if (text.startsWith('//'))
    return refuse('scheme_relative', `The path starts with // (a scheme-relative URL)${after}`)
  if (depth === 0 && !text.startsWith('/')) return refuse('relative_path', 'The path must start with /')
  if (text.includes('?') || text.includes('#'))
    return refuse('query_in_path', `The path holds ? or #${after}; pass the query as \`query\``)
  if (ENCODED_SEPARATOR.test(text))
    return refuse('encoded_separator', `The path holds an encoded / or \\ (%2F, %5C)${after}`)
  const segments = text.split('/').slice(1)
  for (let i = 0; i < segments.length; i++) {
    // `..;x` is `..` to servers that drop path parameters (Tomcat, Spring).
    const s = segments[i]!.split(';')[0]!
    if (s === '.' || s === '..') return refuse('dot_segment', `The path holds a "${s}" segment${after}`)
    if (segments[i] === '' && i < segments.length - 1)
      return refuse('empty_segment', `The path holds an empty segment (//)${after}`)
  }
  return null
}

const ESCAPE = /%[0-9a-f]{2}/i
const STRAY_PERCENT = /%(?![0-9a-f]{2})/i

/**
 * One decoding: every run of escapes becomes the UTF-8 text it encodes. A `%` that starts no
 * escape is an error in what the caller wrote, but fine one layer down (it came from `%25`);
 * an escape that is not UTF-8 (`%c0%ae`, an overlong dot) is an error at any depth.
 */
function decodeOnce(text: string, depth: number): string | Refusal {
  if (depth === 0 && STRAY_PERCENT.test(text))
    return refuse('malformed_escape', 'The path holds a % that starts no escape; write a literal % as %25')
  try {
    return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => decodeURIComponent(run))
  } catch {
    return refuse(
      'malformed_escape',
      'The path holds an escape that is not UTF-8 (a broken or overlong sequence)',
    )
  }
}

/**
 * Decodes the path until it no longer changes, judging every layer — and, from every layer on,
 * its NFKC form, which turns fullwidth and other look-alike dots, slashes and percent signs
 * into the real ones a server may see — so no number of escapes hides a `..`, a separator or
 * another origin. Answers the fully decoded path (for the prefix check) or the rule it broke.
 */
export function decodePath(path: string): { ok: true; decoded: string } | Refusal {
  return walk(path, 0, false)
}

function walk(text: string, from: number, folded: boolean): { ok: true; decoded: string } | Refusal {
  let current = text
  for (let depth = from; ; depth++) {
    const refused = checkLayer(current, depth)
    if (refused)
      return folded ? { ...refused, message: `${refused.message} once Unicode is normalised` } : refused
    const nfkc = current.normalize('NFKC')
    if (nfkc !== current) {
      const viaUnicode = walk(nfkc, depth, true)
      if (!viaUnicode.ok) return viaUnicode
    }
    if (!ESCAPE.test(current)) {
      if (depth === 0 && STRAY_PERCENT.test(current)) return decodeOnce(current, depth) as Refusal
      return { ok: true, decoded: current }
    }
    if (depth === MAX_DECODES)
      return refuse('too_many_encodings', `The path is still encoded after ${MAX_DECODES} decodings`)
    const next = decodeOnce(current, depth)
    if (typeof next !== 'string') return next
    current = next
  }
}

/** A path prefix a connection allows, checked by the same rules as a call's path. */
export function checkPathPrefix(prefix: string): Refusal | null {
  const d = decodePath(prefix)
  return d.ok ? null : d
}

const underPrefix = (path: string, prefix: string) =>
  prefix === '/' || path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)

export type QueryValue = string | number | boolean
export type QueryInput = Record<string, QueryValue | QueryValue[]>

export type AppPolicy = {
  baseUrl: string
  /** null: every method. */
  allowedMethods: readonly string[] | null
  /** Relative to the base URL's path; null: every path under it. */
  allowedPathPrefixes: readonly string[] | null
  /** The header the credential travels in, which the caller may not set. */
  credentialHeader: string | null
  /** The query parameter the credential travels in, which the caller may not set. */
  credentialQuery: string | null
}

export type AppCall = {
  method: string
  path: string
  query?: QueryInput | undefined
  headers?: Record<string, string> | undefined
}

/** Headers that only Switchboard sets on an app call: the credential, the host, the cookies. */
const FORBIDDEN_HEADERS = new Set(['authorization', 'proxy-authorization', 'host', 'cookie', 'cookie2'])
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: a header value may not hold them
const BAD_HEADER_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/

export type AppPlan = { ok: true; url: URL; headers: Headers; path: string }

/**
 * The URL and headers of an app call, or the rule it breaks: the path (see `decodePath`),
 * joined under the base URL and normalised, must keep its scheme, host and port and stay under
 * its path; then the connection's methods and path prefixes; then the caller's headers and
 * query, which may not carry a credential. The credential itself is added later, by the caller.
 */
export function planAppCall(policy: AppPolicy, call: AppCall): AppPlan | Refusal {
  const decoded = decodePath(call.path)
  if (!decoded.ok) return decoded
  const base = new URL(policy.baseUrl)
  const basePath = base.pathname.replace(/\/+$/, '')
  const url = URL.parse(`${base.origin}${basePath}${call.path}`)
  if (!url) return refuse('outside_base_path', 'The path does not make a URL under the base URL')
  if (url.origin !== base.origin)
    return refuse('origin_changed', "The path would change the base URL's scheme, host or port")
  if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`))
    return refuse('outside_base_path', "The path would leave the base URL's path")
  if (policy.allowedMethods && !policy.allowedMethods.includes(call.method))
    return refuse(
      'method_not_allowed',
      `${call.method} is not allowed on this connection (allowed: ${policy.allowedMethods.join(', ') || 'none'})`,
    )
  if (policy.allowedPathPrefixes) {
    const prefixes = policy.allowedPathPrefixes.map(
      (p) => (decodePath(p) as { decoded?: string }).decoded ?? p,
    )
    if (!prefixes.some((p) => underPrefix(decoded.decoded, p)))
      return refuse('path_not_allowed', 'The path is under none of the prefixes this connection allows')
  }
  const headers = new Headers()
  for (const [name, value] of Object.entries(call.headers ?? {})) {
    const lower = name.toLowerCase()
    if (!TOKEN.test(name)) return refuse('invalid_header', `"${printable(name)}" is not a header name`)
    if (BAD_HEADER_VALUE.test(value))
      return refuse('invalid_header', `The value of ${name} holds a forbidden character`)
    if (FORBIDDEN_HEADERS.has(lower) || lower === policy.credentialHeader?.toLowerCase())
      return refuse('forbidden_header', `The caller may not set ${name}: Switchboard sets it`)
    headers.append(lower, value)
  }
  for (const [key, raw] of Object.entries(call.query ?? {})) {
    if (policy.credentialQuery && key.toLowerCase() === policy.credentialQuery.toLowerCase())
      return refuse(
        'credential_query_parameter',
        `The caller may not set the query parameter ${key}: it carries the credential`,
      )
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      const value = String(v)
      if (CONTROL.test(key) || CONTROL.test(value))
        return refuse('control_character', `The query parameter ${printable(key)} holds a control character`)
      url.searchParams.append(key, value)
    }
  }
  return { ok: true, url, headers, path: decoded.decoded }
}

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 64)

export type BodyInput = { body?: unknown; bodyEncoding?: 'json' | 'text' | 'base64' | undefined }

/**
 * The bytes an app call sends and their default content type: JSON by default (any JSON value),
 * a string verbatim with `text`, the decoded bytes with `base64`. GET and HEAD carry none.
 */
export function encodeBody(
  method: string,
  input: BodyInput,
): { ok: true; bytes: Uint8Array | null; contentType: string | null } | Refusal {
  if (input.body === undefined) return { ok: true, bytes: null, contentType: null }
  if (method === 'GET' || method === 'HEAD')
    return refuse('invalid_body', `A ${method} request carries no body`)
  const encoding = input.bodyEncoding ?? 'json'
  if (encoding === 'json') {
    let text: string
    try {
      text = JSON.stringify(input.body)
    } catch {
      return refuse('invalid_body', 'The body nests too deeply to be sent as JSON')
    }
    return { ok: true, bytes: new TextEncoder().encode(text), contentType: 'application/json' }
  }
  if (typeof input.body !== 'string')
    return refuse('invalid_body', `A body with bodyEncoding "${encoding}" must be a string`)
  if (encoding === 'text')
    return { ok: true, bytes: new TextEncoder().encode(input.body), contentType: 'text/plain; charset=utf-8' }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input.body) || input.body.length % 4 !== 0)
    return refuse('invalid_body', 'The body is not valid base64')
  return { ok: true, bytes: Buffer.from(input.body, 'base64'), contentType: 'application/octet-stream' }
}
