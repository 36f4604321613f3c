import { createHostChecker } from './host'
import { createAddressPolicy } from './policy'
import { type Lookup, systemLookup } from './resolve'
import { checkUrl, type UrlCheck } from './url'

export type OutboundRequest = {
  url: string | URL
  method?: string
  headers?: Bun.HeadersInit
  /** A ReadableStream is sent chunked as it arrives, never buffered. */
  body?: Bun.BodyInit | null
}

export type SendOptions = {
  /** Deadline for DNS, connect and response headers; a body that is streaming is not cut. */
  timeoutMs?: number
  /** The caller going away: aborts the request, or the response body while it streams. */
  signal?: AbortSignal
}

export type SendFailure = {
  ok: false
  kind: 'refused' | 'unresolvable' | 'timeout' | 'aborted' | 'network'
  message: string
  /** For `refused`: the rule that refused the URL or one of its addresses. */
  rule?: Exclude<Extract<UrlCheck, { ok: false }>['reason'], 'unresolvable'>
}

/** A 3xx comes back as it is: redirects are never followed. */
export type SendResult = { ok: true; response: Response } | SendFailure

/** The one way out of Switchboard: every outbound request is checked, then sent to the checked address. */
export interface OutboundClient {
  /** The verdict on a URL without sending anything; `signal` stops waiting for DNS. */
  check(url: string | URL, signal?: AbortSignal): Promise<UrlCheck>
  send(request: OutboundRequest, opts?: SendOptions): Promise<SendResult>
}

export type OutboundClientOptions = {
  /** CIDRs that are allowed even though a rule refuses them (SWITCHBOARD_ALLOWED_NETWORKS). */
  allowedNetworks: readonly string[]
  /** How long a host's verdict (and so its DNS answer) is reused; 0 asks DNS every time. */
  dnsCacheMs?: number
  lookup?: Lookup
  timeoutMs?: number
  /** PEM certificate authorities for https agents behind a private CA (Bun's `tls.ca`). */
  ca?: string[]
}

export function createOutboundClient(opts: OutboundClientOptions): OutboundClient {
  const checkHost = createHostChecker({
    policy: createAddressPolicy(opts.allowedNetworks),
    lookup: opts.lookup ?? systemLookup,
    cacheMs: opts.dnsCacheMs ?? 30_000,
  })
  const defaultTimeoutMs = opts.timeoutMs ?? 30_000

  const send = async (req: OutboundRequest, o: SendOptions = {}): Promise<SendResult> => {
    const external = o.signal
    if (external?.aborted) return ABORTED
    const timeoutMs = o.timeoutMs ?? defaultTimeoutMs
    const ctl = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      ctl.abort()
    }, timeoutMs)
    // Stays attached after the headers so the caller leaving also stops a streaming body.
    const onAbort = () => ctl.abort(external?.reason)
    external?.addEventListener('abort', onAbort, { once: true })
    const failed = (e?: unknown): SendFailure => {
      external?.removeEventListener('abort', onAbort)
      if (timedOut) return { ok: false, kind: 'timeout', message: `no response within ${timeoutMs} ms` }
      if (external?.aborted) return ABORTED
      return { ok: false, kind: 'network', message: errorText(e) }
    }
    try {
      const checked = await checkUrl(req.url, checkHost, ctl.signal)
      if (!checked.ok) {
        external?.removeEventListener('abort', onAbort)
        return checked.reason === 'unresolvable'
          ? { ok: false, kind: 'unresolvable', message: checked.message }
          : { ok: false, kind: 'refused', rule: checked.reason, message: checked.message }
      }
      const { url, address, family } = checked
      const headers = withHost(req.headers, url.host)
      const response = await fetch(pinnedUrl(url, address, family), {
        method: req.method ?? 'GET',
        headers,
        body: req.body ?? null,
        signal: ctl.signal,
        redirect: 'manual',
        // Bytes pass through with their Content-Encoding; Bun would otherwise inflate them.
        decompress: false,
        // An http_proxy from the environment would do its own DNS and undo the pinning.
        proxy: false,
        tls: tlsFor(url, address, opts.ca),
      })
      return { ok: true, response }
    } catch (e) {
      return failed(e)
    } finally {
      clearTimeout(timer)
    }
  }

  return { check: (url, signal) => checkUrl(url, checkHost, signal), send }
}

/** The caller's headers with Host set to the name asked for (the URL dialled is the address). */
function withHost(given: Bun.HeadersInit | undefined, host: string): Bun.HeadersInit {
  if (given && !(given instanceof Headers) && !Array.isArray(given)) {
    // A plain record is copied without building a Headers object (hot path).
    const out: Record<string, string> = {}
    for (const k in given) if (k.toLowerCase() !== 'host') out[k] = (given as Record<string, string>)[k]!
    out.host = host
    return out
  }
  const h = new Headers(given)
  h.set('host', host)
  return h
}

const ABORTED: SendFailure = { ok: false, kind: 'aborted', message: 'the caller aborted the request' }

/** The URL with its host replaced by the checked address, so fetch cannot ask DNS a second time. */
function pinnedUrl(url: URL, address: string, family: 4 | 6): string {
  const host = family === 6 ? `[${address}]` : address
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}${url.pathname}${url.search}`
}

/** SNI and certificate verification use the name the caller asked for, not the address dialled. */
function tlsFor(url: URL, address: string, ca: string[] | undefined) {
  if (url.protocol !== 'https:') return undefined
  const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname
  const byName = host !== address && !host.startsWith('[')
  if (!byName) return ca ? { ca } : undefined
  return ca ? { ca, serverName: host } : { serverName: host }
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const code = (e as Error & { code?: unknown }).code
  return typeof code === 'string' && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message
}
