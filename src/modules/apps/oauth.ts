import type { AppAuthConfig } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { AppError } from '../../lib/errors'
import type { Trace } from '../../lib/trace/tracer'
import { readWholeAnswer } from '../forward/answer'
import { upstreamError } from '../forward/errors'
import { APP_HEADERS } from '../forward/headers'
import type { AppMetrics } from './metrics'

type OAuthConfig = Extract<AppAuthConfig, { type: 'oauth2_client_credentials' }>

/** Where a connection's access token comes from. The client secret is unsealed only when one is asked for. */
export type TokenSource = {
  connectionId: string
  /** The connection's secret version: a token got with older auth is never used. */
  version: number
  config: OAuthConfig
  clientSecret: () => string
  /** The work that asked (a token request shared by several calls belongs to the first one's trace). */
  trace: Trace
}

/** A token, with the serial number of the request that got it (one request, one serial). */
export type Token = { token: string; serial: number }
export type TokenResult = ({ ok: true } & Token) | { ok: false; error: AppError }

/** A token endpoint that says nothing of the lifetime: the token is kept this long. */
export const DEFAULT_LIFETIME_S = 300
const MAX_LIFETIME_S = 86_400
const MAX_ENTRIES = 10_000
const TIMEOUT_MS = 10_000
const ANSWER_CAP = 64 * 1024
const TOKEN_TEXT = /^[\x21-\x7e]{1,16384}$/

/**
 * How long a token is used: until shortly before it expires — a tenth of its life early, at
 * most a minute — so a call never goes out with a token about to lapse. `expires_in` absent
 * or not a positive number: DEFAULT_LIFETIME_S.
 */
export function usableForMs(expiresIn: unknown): number {
  const n = typeof expiresIn === 'string' && /^\d+$/.test(expiresIn) ? Number(expiresIn) : expiresIn
  const life =
    typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.min(n, MAX_LIFETIME_S) : DEFAULT_LIFETIME_S
  return Math.round((life - Math.min(60, life / 10)) * 1000)
}

type Entry = Token & { version: number; until: number }

/**
 * OAuth2 client-credentials tokens of app connections, done as a careful client would: one
 * token per connection and secret version, kept until shortly before it expires; callers that
 * need one at the same time share one token request; after the app refused a token, the
 * callers that saw it share one refresh. The token endpoint is called through the forwarding
 * engine (outbound guard, no redirects, a deadline). Tokens live in this instance's memory
 * only. Built once at start-up (server.ts) and stopped on shutdown.
 */
export class AppTokens {
  private readonly tokens = new Map<string, Entry>()
  private readonly inflight = new Map<string, Promise<TokenResult>>()
  private readonly stopping = new AbortController()
  private serial = 0

  constructor(private readonly deps: Pick<Deps, 'forward' | 'clock' | 'log'> & { appMetrics: AppMetrics }) {}

  /** A usable token: the cached one, or one fetched (shared with every concurrent caller). */
  token(src: TokenSource): Promise<TokenResult> {
    const cached = this.cached(src)
    return cached
      ? Promise.resolve({ ok: true, token: cached.token, serial: cached.serial })
      : this.shared(src)
  }

  /**
   * The app answered 401 to `stale`: drop it and get another — unless a caller that saw the
   * same refusal already did, in which case that token is the answer. (By serial, not by text:
   * an endpoint that hands out the same token again must not set off a refresh per caller.)
   */
  refresh(src: TokenSource, stale: Token): Promise<TokenResult> {
    const hit = this.tokens.get(src.connectionId)
    if (hit && hit.version === src.version && hit.serial === stale.serial)
      this.tokens.delete(src.connectionId)
    return this.token(src)
  }

  /** A connection changed or went away: its token is not used again. */
  forget(connectionId: string) {
    this.tokens.delete(connectionId)
    for (const key of this.inflight.keys()) if (key.startsWith(`${connectionId}:`)) this.inflight.delete(key)
  }

  stop() {
    this.stopping.abort()
    this.tokens.clear()
    this.inflight.clear()
  }

  private cached(src: TokenSource): Entry | null {
    const hit = this.tokens.get(src.connectionId)
    if (!hit || hit.version !== src.version) return null
    if (hit.until > this.deps.clock.now().getTime()) return hit
    this.tokens.delete(src.connectionId)
    return null
  }

  private shared(src: TokenSource): Promise<TokenResult> {
    const key = `${src.connectionId}:${src.version}`
    const running = this.inflight.get(key)
    if (running) return running
    const serial = ++this.serial
    const p: Promise<TokenResult> = this.request(src).then((r) => {
      // A connection forgotten meanwhile (changed, deleted) keeps nothing of this request.
      const current = this.inflight.get(key) === p
      if (current) this.inflight.delete(key)
      if (!r.ok) return r
      if (current) this.store(src, { token: r.token, serial }, r.until)
      return { ok: true as const, token: r.token, serial }
    })
    this.inflight.set(key, p)
    return p
  }

  private store(src: TokenSource, token: Token, until: number) {
    const hit = this.tokens.get(src.connectionId)
    if (hit && hit.version > src.version) return
    this.tokens.delete(src.connectionId)
    if (this.tokens.size >= MAX_ENTRIES) this.tokens.delete(this.tokens.keys().next().value!)
    this.tokens.set(src.connectionId, { ...token, version: src.version, until })
  }

  /** One token request (RFC 6749 §4.4). Never throws; nothing of the secret or the answer's body is logged. */
  private async request(
    src: TokenSource,
  ): Promise<{ ok: true; token: string; until: number } | { ok: false; error: AppError }> {
    const { config } = src
    const asked = this.deps.clock.now().getTime()
    const fail = (error: AppError, why: string) => {
      this.deps.appMetrics.tokenRequest('error')
      this.deps.log.warn('app token request failed', { connectionId: src.connectionId, why })
      return { ok: false as const, error }
    }
    const form = new URLSearchParams({ grant_type: 'client_credentials' })
    if (config.scopes?.length) form.set('scope', config.scopes.join(' '))
    if (config.audience) form.set('audience', config.audience)
    let secret: string
    try {
      secret = src.clientSecret()
    } catch {
      this.deps.log.error('an app connection secret does not open', { connectionId: src.connectionId })
      return { ok: false, error: new AppError('internal_error', 'The connection secret cannot be opened') }
    }
    const basic = config.clientAuthMethod === 'client_secret_basic'
    if (!basic) {
      form.set('client_id', config.clientId)
      form.set('client_secret', secret)
    }
    // RFC 6749 §2.3.1: both halves form-encoded, then Basic.
    const pair = `${encodeURIComponent(config.clientId)}:${encodeURIComponent(secret)}`
    const credential = basic
      ? { name: 'authorization', value: `Basic ${Buffer.from(pair).toString('base64')}` }
      : null
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(TIMEOUT_MS)])
    try {
      const sent = await this.deps.forward.send(
        { url: config.tokenUrl, credential },
        {
          method: 'POST',
          headers: new Headers({
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          }),
          body: form.toString(),
        },
        {
          lane: 'app',
          trace: src.trace,
          rules: APP_HEADERS.request,
          add: { 'accept-encoding': 'gzip, deflate' },
          timeoutMs: TIMEOUT_MS,
          signal,
        },
      )
      if (!sent.ok) {
        const e = upstreamError(sent, 'bad_gateway', "app's token endpoint")
        return fail(e, sent.kind)
      }
      const status = sent.response.status
      const answer = await readWholeAnswer(sent.response, ANSWER_CAP)
      const body =
        answer.ok && answer.bodyEncoding === 'json' ? (answer.body as Record<string, unknown>) : null
      if (status < 200 || status > 299) {
        const code =
          typeof body?.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? ` (${body.error})` : ''
        return fail(
          new AppError('bad_gateway', `The app's token endpoint answered ${status}${code}`),
          `status ${status}`,
        )
      }
      const token = body?.access_token
      if (typeof token !== 'string' || !TOKEN_TEXT.test(token))
        return fail(
          new AppError('bad_gateway', "The app's token endpoint gave no usable access_token"),
          'no token',
        )
      const type = body?.token_type
      if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer'))
        return fail(
          new AppError('bad_gateway', "The app's token endpoint gave a token that is not a bearer token"),
          'type',
        )
      this.deps.appMetrics.tokenRequest('ok')
      return { ok: true, token, until: asked + usableForMs(body?.expires_in) }
    } catch {
      return fail(
        new AppError('bad_gateway', "The app's token endpoint did not answer in time or hung up"),
        'read',
      )
    }
  }
}
