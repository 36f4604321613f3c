import type { Ctx, Deps } from '../../deps'
import { AppError, invalid, notFound } from '../../lib/errors'
import type { Trace } from '../../lib/trace/tracer'
import { assertSelf } from '../agents/lookup'
import { recordAudit } from '../audit/record'
import { type BodyEncoding, readWholeAnswer } from '../forward/answer'
import type { Outgoing } from '../forward/engine'
import { upstreamError } from '../forward/errors'
import { APP_HEADERS, answerHeaders } from '../forward/headers'
import type { Credential } from '../forward/routing'
import { limitCaller } from '../proxy/admit'
import type { AgentActor } from '../tokens/actor'
import { credentialHeaderName, secretContext, staticCredential } from './auth'
import { type CallOutcome, statusClass } from './metrics'
import type { ExecuteInput } from './model'
import type { Token, TokenSource } from './oauth'
import { redactAnswer, secretForms } from './redact'
import { type AppRule, encodeBody, planAppCall } from './rules'
import { type AppConnectionRow, appConnectionForCall } from './view'

export type ExecuteAnswer = {
  status: number
  headers: Record<string, string>
  body: unknown
  bodyEncoding: BodyEncoding
}

/** What an execute did, for its audit row and its metrics: never a secret, a body or a query value. */
type Outcome = {
  outcome: CallOutcome
  status: number | null
  rule?: AppRule
  code?: string
  retried?: boolean
}

/**
 * Executes one call of an agent to an app through its connection: the agent's own token, a
 * connection of its workspace that allows it (else 404); the lane's rules (rules.ts: a 400
 * naming the rule, before the secret is unsealed); the credential injected server-side; the
 * call sent through the forwarding engine (outbound guard, header hygiene, no redirects) with
 * the connection's timeout; the answer read whole (a larger one is an error, never cut). An
 * OAuth2 connection whose token the app refuses (401) gets one refreshed token and one retry.
 * Every execute that reached the connection is an audit row and a metric.
 */
export async function executeAppConnection({
  ctx,
  input,
}: {
  ctx: Ctx<AgentActor>
  input: { agentId: string; connectionId: string; call: ExecuteInput; signal: AbortSignal }
}): Promise<{ answer: ExecuteAnswer; headers: Record<string, string> }> {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const limitHeaders = limitCaller(ctx)
  const conn = await appConnectionForCall(deps, actor.workspaceId, input.connectionId)
  // Not allowed looks exactly like not there.
  if (!conn || (conn.allowedAgentIds !== null && !conn.allowedAgentIds.includes(actor.agentId)))
    throw notFound('App connection')
  const started = performance.now()
  const done = (o: Outcome, reachedOut: boolean) =>
    noteExecute(ctx, conn, input.call, o, reachedOut ? (performance.now() - started) / 1000 : null)
  try {
    const answer = await call(deps, conn, input.call, input.signal, ctx.trace)
    await done(answer.outcome, true)
    return { answer: answer.answer, headers: limitHeaders }
  } catch (e) {
    if (e instanceof Refused) {
      await done(
        { outcome: 'refused', status: null, code: e.error.code, ...(e.rule ? { rule: e.rule } : {}) },
        false,
      )
      throw e.error
    }
    if (e instanceof Failed) {
      await done(e.outcome, true)
      throw e.error
    }
    throw e
  }
}

/** A call refused before anything was sent: by a rule of the lane (a 400 naming it), or for its size. */
class Refused extends Error {
  readonly error: AppError
  constructor(
    message: string,
    readonly rule?: AppRule,
    error?: AppError,
  ) {
    super(message)
    this.error = error ?? invalid(message, { rule })
  }
}

/** A call that went out and failed: the error to answer, and how it ended. */
class Failed extends Error {
  constructor(
    readonly error: AppError,
    readonly outcome: Outcome,
  ) {
    super(error.message)
  }
}

async function call(
  deps: Deps,
  conn: AppConnectionRow,
  input: ExecuteInput,
  signal: AbortSignal,
  trace: Trace,
) {
  const plan = planAppCall(
    {
      baseUrl: conn.baseUrl,
      allowedMethods: conn.allowedMethods,
      allowedPathPrefixes: conn.allowedPathPrefixes,
      credentialHeader: credentialHeaderName(conn.auth),
      credentialQuery: conn.auth.type === 'query' ? conn.auth.name : null,
    },
    input,
  )
  if (!plan.ok) throw new Refused(plan.message, plan.rule)
  const body = encodeBody(input.method, input)
  if (!body.ok) throw new Refused(body.message, body.rule)
  const cap = deps.config.bufferedBodyBytes
  if (body.bytes && body.bytes.byteLength > cap) {
    const message = `The request body is larger than ${cap} bytes`
    throw new Refused(message, undefined, new AppError('payload_too_large', message, { limitBytes: cap }))
  }
  if (body.contentType && !plan.headers.has('content-type'))
    plan.headers.set('content-type', body.contentType)
  if (!plan.headers.has('user-agent')) plan.headers.set('user-agent', 'Switchboard-Apps/1')

  // Past every rule: only now is the secret unsealed (or a token asked for).
  const open = () => deps.sealer.open(conn.secret, secretContext(conn.id))
  const url = plan.url
  let credential: Credential | null = null
  let oauth: { src: TokenSource; token: Token } | null = null
  // What went up, so that an app echoing it (an error quoting the URL…) does not hand it to the agent.
  const sent: string[] = []
  if (conn.auth.type === 'query') {
    const secret = open()
    url.searchParams.append(conn.auth.name, secret)
    sent.push(secret)
  } else if (conn.auth.type === 'oauth2_client_credentials') {
    const src = {
      connectionId: conn.id,
      version: conn.secretVersion,
      config: conn.auth,
      clientSecret: open,
      trace,
    }
    const got = await deps.appTokens.token(src)
    if (!got.ok) throw new Failed(got.error, { outcome: 'token_error', status: null, code: got.error.code })
    oauth = { src, token: got }
    credential = bearer(got.token)
    sent.push(got.token)
  } else {
    const secret = open()
    credential = staticCredential(conn.auth, secret)
    sent.push(secret, credential!.value.replace(/^(Bearer|Basic) /, ''))
  }

  const req: Outgoing = { method: input.method, headers: plan.headers, body: body.bytes }
  const timeoutMs = conn.timeoutMs ?? deps.config.apps.timeoutMs
  const to = url.toString()
  const o = { timeoutMs, signal, cap, trace }
  let answer = await exchange(deps, { url: to, credential }, req, o)
  let retried = false
  if (oauth && answer.status === 401) {
    const fresh = await deps.appTokens.refresh(oauth.src, oauth.token)
    // No new token: the app's 401 stands as it is.
    if (fresh.ok) {
      retried = true
      sent.push(fresh.token)
      answer = await exchange(deps, { url: to, credential: bearer(fresh.token) }, req, o)
    }
  }
  redactAnswer(answer.answer, secretForms(sent))
  return {
    answer: answer.answer,
    outcome: { outcome: statusClass(answer.status), status: answer.status, retried },
  }
}

const bearer = (token: string): Credential => ({ name: 'authorization', value: `Bearer ${token}` })

/** One request to the app and its answer read whole, all within `timeoutMs`. */
async function exchange(
  deps: Deps,
  to: { url: string; credential: Credential | null },
  req: Outgoing,
  o: { timeoutMs: number; signal: AbortSignal; cap: number; trace: Trace },
): Promise<{ status: number; answer: ExecuteAnswer }> {
  const { timeoutMs, cap, signal: callerSignal } = o
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), timeoutMs)
  const late = () =>
    new Failed(new AppError('gateway_timeout', `The app did not answer within ${timeoutMs} ms`), {
      outcome: 'timeout',
      status: null,
      code: 'gateway_timeout',
    })
  try {
    const sent = await deps.forward.send(to, req, {
      lane: 'app',
      trace: o.trace,
      // Spans keep the path (the caller's own); the tracer redacts every query value, a query credential's too.
      rules: APP_HEADERS.request,
      // The answer is decoded here: ask for what can be inflated.
      add: { 'accept-encoding': 'gzip, deflate' },
      timeoutMs,
      signal: AbortSignal.any([callerSignal, deadline.signal]),
    })
    if (!sent.ok) {
      if (deadline.signal.aborted) throw late()
      const error = upstreamError(sent, 'gateway_timeout', 'app')
      const outcome =
        sent.kind === 'timeout' ? 'timeout' : sent.kind === 'aborted' ? 'aborted' : 'unreachable'
      throw new Failed(error, { outcome, status: null, code: error.code })
    }
    const { status } = sent.response
    let read: Awaited<ReturnType<typeof readWholeAnswer>>
    try {
      read = await readWholeAnswer(sent.response, cap)
    } catch {
      if (deadline.signal.aborted) throw late()
      throw new Failed(new AppError('bad_gateway', 'The app hung up before its answer ended'), {
        outcome: callerSignal.aborted ? 'aborted' : 'unreachable',
        status,
        code: 'bad_gateway',
      })
    }
    if (!read.ok) {
      const tooLarge = read.kind === 'too_large'
      throw new Failed(
        new AppError(
          'bad_gateway',
          `The app's answer could not be passed on: ${read.message}`,
          tooLarge ? { limitBytes: cap } : undefined,
        ),
        { outcome: tooLarge ? 'too_large' : 'unreachable', status, code: 'bad_gateway' },
      )
    }
    const headers = Object.fromEntries(answerHeaders(sent.response.headers, APP_HEADERS.answer) as Headers)
    return { status, answer: { status, headers, body: read.body, bodyEncoding: read.bodyEncoding } }
  } finally {
    clearTimeout(timer)
  }
}

/** The caller's path and query as an audit row keeps them: every query value redacted, no control characters. */
export function auditedPath(input: Pick<ExecuteInput, 'path' | 'query'>): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udfff]/g, '\ufffd')
  const keys = Object.keys(input.query ?? {})
  const query = keys.map((k) => `${encodeURIComponent(clean(k))}=[redacted]`).join('&')
  const path = clean(input.path).slice(0, 512)
  return query ? `${path}?${query}` : path
}

/** The audit row and the metrics of one execute. A failed audit write is logged; the call already happened. */
async function noteExecute(
  ctx: Ctx<AgentActor>,
  conn: AppConnectionRow,
  input: ExecuteInput,
  o: Outcome,
  seconds: number | null,
) {
  const { deps, actor } = ctx
  deps.appMetrics.call(conn.id, o.outcome, seconds)
  const durationMs = seconds === null ? 0 : Math.round(seconds * 1000)
  try {
    await deps.db.tx((tx) =>
      recordAudit(deps, tx, {
        workspaceId: actor.workspaceId,
        agentId: actor.agentId,
        action: 'app_connection_executed',
        actor,
        metadata: {
          connectionId: conn.id,
          connectionName: conn.name,
          method: input.method,
          path: auditedPath(input),
          outcome: o.outcome,
          status: o.status,
          ...(o.rule ? { rule: o.rule } : {}),
          ...(o.code ? { error: o.code } : {}),
          ...(o.retried ? { retried: true } : {}),
          durationMs,
        },
      }),
    )
  } catch (e) {
    deps.log.error('recording an app call failed', {
      requestId: ctx.requestId,
      connectionId: conn.id,
      error: e,
    })
  }
}
