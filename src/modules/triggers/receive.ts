import { eq } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { readBytes } from '../../http/body'
import { clientAddress, requestMeta } from '../../http/request'
import { AppError, notFound } from '../../lib/errors'
import { TRIGGER_ID_RE } from '../../lib/ids'
import { rateLimitHeaders } from '../../lib/ratelimit'
import { submitJob } from '../jobs/submit'
import {
  type DeliveryKey,
  DeliveryTaken,
  deliveryKeyOf,
  firstCallOf,
  type NewCall,
  recordAccepted,
  recordDuplicate,
} from './calls'
import { envelope } from './envelope'
import { type TriggerRow, triggerSecretContext } from './service'
import { verifyCall } from './verify'

const unknownTrigger = () => notFound('Trigger')

function refuseOver(d: ReturnType<Deps['limits']['hookIp']['take']>, message: string) {
  if (!d.allowed)
    throw new AppError('rate_limited', `${message}; retry later`, undefined, rateLimitHeaders(d))
}

async function enabledTrigger(deps: Deps, id: string): Promise<TriggerRow> {
  if (!TRIGGER_ID_RE.test(id)) throw unknownTrigger()
  const t = deps.db.t.triggers
  const [row] = await deps.db.orm.select().from(t).where(eq(t.id, id)).limit(1)
  if (!row?.enabled) throw unknownTrigger()
  return row
}

const accepted = (jobId: string, replayed: boolean) =>
  Response.json({ jobId }, { status: 202, headers: replayed ? { 'idempotent-replayed': 'true' } : {} })

/**
 * `POST /hooks/{triggerId}`: an outside system's call becomes a job for the trigger's agent.
 * In this order, and nothing is stored before the call is verified:
 * 1. the client IP's limit (before any lookup, so guessing ids costs the guesser);
 * 2. the trigger: unknown or disabled is the same 404;
 * 3. the body, at most the buffered-lane limit (413, counted as it arrives);
 * 4. verification, in constant time (401);
 * 5. the trigger's limit (429), counted on verified calls only, so a stranger cannot use it up;
 * 6. a delivery id seen within 24 h answers the same 202 with the first call's job;
 * 7. the job, made as the async lane makes one, with the call recorded in its transaction.
 * Answers 202 `{jobId}` as soon as the job is written: the agent is called in the background.
 */
export async function receiveHook(
  deps: Deps,
  input: { triggerId: string; request: Request; requestId: string },
): Promise<Response> {
  const { request } = input
  const ip = clientAddress(request, deps.config.trustProxy)
  if (deps.limits.hookIp.enabled)
    refuseOver(deps.limits.hookIp.take(`hook-ip:${ip}`), 'Too many calls from this address')
  const trigger = await enabledTrigger(deps, input.triggerId)
  const body = await readBytes(request, deps.config.bufferedBodyBytes)
  const secret = trigger.verifySecret
    ? deps.sealer.open(trigger.verifySecret, triggerSecretContext(trigger.id))
    : null
  const verdict = verifyCall(
    { type: trigger.verifyType, secret, header: trigger.verifyHeader },
    request.headers,
    body,
    deps.clock.now().getTime(),
  )
  if (!verdict.ok) {
    deps.log.info('trigger call refused', { requestId: input.requestId, reason: verdict.reason })
    throw new AppError('unauthorized', 'The call is not signed or authorized as this trigger requires')
  }
  if (deps.limits.trigger.enabled)
    refuseOver(deps.limits.trigger.take(`trigger:${trigger.id}`), 'Too many calls for this trigger')

  const key = deliveryKeyOf(request.headers)
  const call: NewCall = {
    triggerId: trigger.id,
    workspaceId: trigger.workspaceId,
    jobId: null,
    outcome: 'accepted',
    dedupeKey: key?.key ?? null,
    deliveryId: key?.value ?? null,
    sourceIp: ip,
    contentType: request.headers.get('content-type')?.slice(0, 200) ?? null,
    bytes: body.byteLength,
  }
  const replay = key ? await replayOf(deps, trigger, key, call) : null
  if (replay) return replay
  try {
    const job = await makeJob(deps, trigger, { request, body, requestId: input.requestId, call })
    return accepted(job, false)
  } catch (e) {
    // The same delivery id arrived twice at once and the other call won: answer with its job.
    if (!(e instanceof DeliveryTaken) || !key) throw e
    const raced = await replayOf(deps, trigger, key, call)
    if (!raced) throw e
    return raced
  }
}

async function replayOf(deps: Deps, trigger: TriggerRow, key: DeliveryKey, call: NewCall) {
  const first = await firstCallOf(deps, trigger.id, key.key)
  if (!first) return null
  await recordDuplicate(deps, { ...call, outcome: 'duplicate', jobId: first.jobId })
  return accepted(first.jobId!, true)
}

async function makeJob(
  deps: Deps,
  trigger: TriggerRow,
  c: { request: Request; body: Uint8Array; requestId: string; call: NewCall },
): Promise<string> {
  const hop = await deps.forward.resolve({ agentId: trigger.agentId }, trigger.protocol).catch((e) => {
    // The sender learns that the agent cannot take it now, not which agent or why.
    if (e instanceof AppError && e.status === 400)
      throw new AppError('invalid_state', "The trigger's agent cannot take jobs now")
    throw e
  })
  const tokenHeader = trigger.verifyType === 'token' ? trigger.verifyHeader : null
  const headers = new Headers(c.request.headers)
  if (tokenHeader) headers.delete(tokenHeader)
  const receivedAt = deps.clock.now()
  const job = await submitJob(deps, {
    hop,
    protocol: trigger.protocol,
    trace: requestMeta(c.request).trace,
    workspaceId: trigger.workspaceId,
    connectionId: null,
    caller: null,
    triggerId: trigger.id,
    headers,
    body: c.body,
    ...(trigger.transform === 'json_envelope'
      ? {
          wrap: (body: Uint8Array) => ({
            body: envelope({
              trigger: { id: trigger.id, name: trigger.name },
              receivedAt,
              headers: c.request.headers,
              tokenHeader,
              query: new URL(c.request.url).searchParams,
              body,
            }),
            headers: new Headers({ 'content-type': 'application/json' }),
          }),
        }
      : {}),
    requestId: c.requestId,
    // Never the sender's Host: the agent sends its token to the status URL.
    origin: '',
    alongside: (tx, job) => recordAccepted(deps, tx, { ...c.call, jobId: job.id }),
  })
  return job.id
}
