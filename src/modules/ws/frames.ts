import type { Deps } from '../../deps'
import { AppError } from '../../lib/errors'
import { closeCodeFor, resolveStreamToken } from './auth'
import type { LiveHub } from './hub'
import { CLOSE, ClientFrame, controlFrame } from './protocol'
import type { Raw } from './session'

/**
 * A frame from the client. Before authentication only `auth` (and `ping`) are taken; a
 * malformed frame after it is answered with an error frame and the socket stays open.
 */
export async function handleFrame(deps: Deps, hub: LiveHub, socket: Raw, message: unknown) {
  const s = hub.session(socket)
  if (!s || s.closed) return
  const raw = typeof message === 'string' ? tryJson(message) : message
  const parsed = ClientFrame.safeParse(raw)
  if (!parsed.success) {
    if (!s.actor && (raw as { type?: unknown } | undefined)?.type === 'auth')
      return s.close(CLOSE.invalidRequest, 'malformed auth frame')
    if (!s.actor) return s.close(CLOSE.unauthorized, 'send {"type":"auth","token":…} first')
    return s.sendNow(
      controlFrame('error', {
        code: 'invalid_frame',
        error: 'Expected {type: "subscribe"|"resume"|"ping", …}',
        details: parsed.error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message })),
      }),
    )
  }
  const frame = parsed.data
  if (frame.type === 'ping')
    return s.sendNow(controlFrame('pong', frame.id === undefined ? {} : { id: frame.id }))
  if (frame.type === 'auth') {
    // Once only: a second auth frame sent before the first is checked (on Postgres the check
    // takes a round trip) must not authenticate the socket twice and count its agent twice.
    if (s.actor || s.authenticating)
      return s.sendNow(controlFrame('error', { code: 'invalid_frame', error: 'Already authenticated' }))
    s.authenticating = true
    try {
      const actor = await resolveStreamToken(deps, frame.token)
      if (!s.closed) hub.authenticated(s, { actor, secret: frame.token }, frame.since, frame.types)
    } catch (e) {
      if (e instanceof AppError) s.close(closeCodeFor(e), e.message)
      else s.close(CLOSE.internal, 'internal error')
    } finally {
      s.authenticating = false
    }
    return
  }
  if (!s.actor) return s.close(CLOSE.unauthorized, 'send {"type":"auth","token":…} first')
  await s.started
  if (s.closed) return
  if (frame.type === 'subscribe') hub.subscribe(s, frame.types)
  else hub.resume(s, frame.since)
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
