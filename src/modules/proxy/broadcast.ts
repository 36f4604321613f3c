import type { ProtocolName } from '../../db/schema/types'
import type { Ctx } from '../../deps'
import { readBytes } from '../../http/body'
import { AppError } from '../../lib/errors'
import { groupForCaller } from '../groups/lane'
import type { BroadcastResultView } from '../groups/model'
import type { AgentActor } from '../tokens/actor'
import { directoryOf, planFor, upstreamError } from './engine'
import { sendHop } from './forward'
import { type Hop, parseProtocol } from './routing'
import { limitCaller } from './sync'

/** Each member's answer is kept up to this many bytes; a broadcast answer holds all of them. */
export const BROADCAST_ANSWER_CAP = 256 * 1024

/**
 * The broadcast lane: the body is read once (≤ the buffered-lane limit) and the same bytes go
 * to every member at once, each with its own deadline. Every member gets a result — an
 * inactive member, a timeout or a refused port is a `rejected` result, never an error of the
 * call. `fulfilled` means the member answered over HTTP, whatever the status (the usual
 * Promise.allSettled reading: the call settled with an answer); `httpStatus` tells the rest.
 * The caller itself is not called even when it is a member.
 */
export async function callBroadcast({
  ctx,
  input,
}: {
  ctx: Ctx<AgentActor>
  input: { groupId: string; request: Request }
}): Promise<Response> {
  const limitHeaders = limitCaller(ctx)
  const { request } = input
  const protocol = parseProtocol(request.headers.get('x-switchboard-protocol'))
  const group = await groupForCaller(ctx.deps, input.groupId, ctx.actor)
  const body = await readBytes(request, ctx.deps.config.bufferedBodyBytes)
  const members = group.memberAgentIds.filter((id) => id !== ctx.actor.agentId)
  const settled = await Promise.all(
    members.map((agentId) => deliver(ctx, { agentId, protocol, body, request, groupId: group.id })),
  )
  const results = settled.filter((r): r is BroadcastResultView => r !== null)
  return Response.json({ groupId: group.id, results }, { headers: limitHeaders })
}

type Delivery = {
  agentId: string
  protocol: ProtocolName | null
  body: Uint8Array
  request: Request
  groupId: string
}

/** One member's delivery; never throws for anything the member or its plan did. Null: no longer an agent. */
async function deliver(ctx: Ctx<AgentActor>, d: Delivery): Promise<BroadcastResultView | null> {
  const { deps } = ctx
  const member = await directoryOf(deps).agent(d.agentId)
  if (!member) return null
  const start = performance.now()
  const result = (r: Partial<BroadcastResultView> & Pick<BroadcastResultView, 'status'>) => ({
    agentId: member.id,
    permanentId: member.permanentId,
    httpStatus: null,
    body: null,
    truncated: false,
    error: null,
    handledBy: null,
    ...r,
    durationMs: Math.round(performance.now() - start),
  })
  let hop: Hop
  try {
    hop = await planFor(deps, d.agentId, d.protocol)
  } catch (e) {
    if (e instanceof AppError) return result({ status: 'rejected', error: e.message })
    throw e
  }
  const handledBy = hop.agent.permanentId
  const timeoutMs = deps.config.timeouts.broadcastMs
  // One deadline for the whole exchange: the outbound timeout stops at the headers, a slow body must not hold the call.
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), timeoutMs)
  const late = `The agent did not answer within ${timeoutMs} ms`
  try {
    const sent = await sendHop(
      deps,
      hop,
      { method: 'POST', headers: d.request.headers, body: d.body },
      {
        caller: ctx.actor,
        connectionId: null,
        requestId: ctx.requestId,
        // The answer is parsed here, so ask for it uncompressed.
        extra: { 'x-switchboard-broadcast-group': d.groupId, 'accept-encoding': 'identity' },
      },
      { timeoutMs, signal: AbortSignal.any([d.request.signal, deadline.signal]) },
    )
    if (!sent.ok) {
      const error = deadline.signal.aborted ? late : upstreamError(sent, 'bad_gateway').message
      return result({ status: 'rejected', error, handledBy })
    }
    const httpStatus = sent.response.status
    try {
      const answer = await readAnswer(sent.response, BROADCAST_ANSWER_CAP)
      return result({ status: 'fulfilled', httpStatus, handledBy, ...answer })
    } catch (e) {
      const error = deadline.signal.aborted ? `${late} (the body did not arrive in time)` : errorText(e)
      return result({ status: 'rejected', httpStatus, handledBy, error })
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A member's answer body, at most `cap` bytes: JSON when it is JSON (or untyped and parses),
 * else text; null when empty. gzip/deflate are inflated (as they stream, so the cap holds).
 */
export async function readAnswer(
  response: Response,
  cap: number,
): Promise<{ body: unknown; truncated: boolean; error: string | null }> {
  const encoding = response.headers.get('content-encoding')?.trim().toLowerCase() ?? 'identity'
  let stream = response.body
  if (!stream) return { body: null, truncated: false, error: null }
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
    stream = stream.pipeThrough(new DecompressionStream(encoding === 'deflate' ? 'deflate' : 'gzip'))
  } else if (encoding !== 'identity') {
    await stream.cancel().catch(() => {})
    return {
      body: null,
      truncated: false,
      error: `The answer uses an unsupported content-encoding (${encoding})`,
    }
  }
  const { bytes, truncated } = await readCapped(stream, cap)
  if (bytes.byteLength === 0) return { body: null, truncated: false, error: null }
  const text = new TextDecoder().decode(bytes)
  const type = response.headers.get('content-type')?.toLowerCase() ?? ''
  if (!truncated && (type === '' || /[/+]json\b/.test(type))) {
    try {
      return { body: JSON.parse(text), truncated, error: null }
    } catch {}
  }
  return { body: text, truncated, error: null }
}

async function readCapped(stream: ReadableStream<Uint8Array>, cap: number) {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (total + value.byteLength > cap) {
      chunks.push(value.subarray(0, cap - total))
      total = cap
      truncated = true
      await reader.cancel().catch(() => {})
      break
    }
    chunks.push(value)
    total += value.byteLength
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.byteLength
  }
  return { bytes: out, truncated }
}

const errorText = (e: unknown) =>
  `The answer could not be read: ${e instanceof Error ? e.message : String(e)}`
