import { z } from 'zod'
import { EVENT_TYPES } from '../events/append'
import type { EventRow } from '../events/feed'

/**
 * Close codes of `GET /api/ws` (documented in the README). 1000–1011 keep their standard
 * meanings; the 4xxx codes are ours and mirror the HTTP statuses they correspond to.
 */
export const CLOSE = {
  /** The server is shutting down: reconnect (elsewhere) with `?since=`. */
  goingAway: 1001,
  /** Something broke on our side while serving this socket: reconnect with `?since=`. */
  internal: 1011,
  /** The auth frame was malformed (e.g. a `since` that is not an id). */
  invalidRequest: 4000,
  /** No credential within the auth deadline, or the credential is malformed, unknown, expired or revoked. */
  unauthorized: 4001,
  /** The credential is valid but cannot open a stream (the admin token). */
  forbidden: 4003,
  /** The client did not read fast enough: its send buffer passed the limit. Resume with `?since=`. */
  slowConsumer: 4008,
  /** The credential ended while the socket was open (revoked, rotated, expired, agent deactivated/archived/deleted). */
  credentialEnded: 4009,
  /** The credential already holds SWITCHBOARD_WS_MAX_PER_CREDENTIAL sockets on this instance. */
  tooManySockets: 4029,
} as const

export const CLOSE_CODES: { code: number; name: string; meaning: string }[] = [
  { code: 1001, name: 'going_away', meaning: 'The server is shutting down; reconnect with ?since=' },
  { code: 1011, name: 'internal_error', meaning: 'A server-side failure; reconnect with ?since=' },
  { code: 4000, name: 'invalid_request', meaning: 'The auth frame was malformed' },
  { code: 4001, name: 'unauthorized', meaning: 'No credential within the deadline, or it is invalid' },
  { code: 4003, name: 'forbidden', meaning: 'This credential cannot open a stream (admin token)' },
  { code: 4008, name: 'slow_consumer', meaning: 'The send buffer passed its limit; resume with ?since=' },
  {
    code: 4009,
    name: 'credential_ended',
    meaning: 'The credential was revoked, rotated, expired or its agent disabled',
  },
  {
    code: 4029,
    name: 'too_many_sockets',
    meaning:
      'The credential already holds as many open streams as it may (SWITCHBOARD_WS_MAX_PER_CREDENTIAL)',
  },
]

/**
 * A close code as a metrics label: the codes that mean something here (the standard ones and
 * ours), else `other` — a client picks its own close code, and must not mint a series with it.
 */
export function closeCodeLabel(code: number): string {
  if ((code >= 1000 && code <= 1015) || CLOSE_CODES.some((c) => c.code === code)) return String(code)
  return 'other'
}

const PREFIXES = new Set(EVENT_TYPES.map((t) => t.slice(0, t.indexOf('.'))))

/** An event type, `*` (everything), or a family such as `job.*`. */
const TypePattern = z
  .string()
  .max(64)
  .refine(
    (t) =>
      t === '*' ||
      (EVENT_TYPES as readonly string[]).includes(t) ||
      (t.endsWith('.*') && PREFIXES.has(t.slice(0, -2))),
    { message: `expected one of ${EVENT_TYPES.join(', ')}, a family such as job.*, or *` },
  )
const Types = z.array(TypePattern).min(1).max(50)
const Since = z.union([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
])

/** Frames a client may send. */
export const ClientFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('auth'),
    token: z.string().min(1).max(512),
    since: Since.optional(),
    types: Types.optional(),
  }),
  z.object({ type: z.literal('subscribe'), types: Types }),
  z.object({ type: z.literal('resume'), since: Since }),
  z.object({ type: z.literal('ping'), id: z.union([z.string().max(100), z.number()]).optional() }),
])
export type ClientFrame = z.infer<typeof ClientFrame>

/** `?since=` on the upgrade: an id, or empty for "from now" (what a client with no id yet sends). */
export const SinceQuery = z.union([z.literal('').transform(() => undefined), Since])

/** A matcher for a subscribe list; null means every type. */
export function typeFilter(types: string[] | undefined): ((type: string) => boolean) | null {
  if (!types || types.includes('*')) return null
  const exact = new Set(types.filter((t) => !t.endsWith('.*')))
  const families = types.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1))
  return (type) => exact.has(type) || families.some((f) => type.startsWith(f))
}

/** The one wire shape of an event: `{id, type, at, data}`. */
export function eventFrame(
  row: Pick<EventRow, 'id' | 'type' | 'createdAt' | 'data'> &
    Partial<Pick<EventRow, 'payloadId' | 'payload'>>,
): string {
  // A payload stored once (a message's) is the frame's `data.payload`.
  const data = row.payloadId ? { ...row.data, payload: row.payload ?? null } : row.data
  return JSON.stringify({ id: row.id, type: row.type, at: row.createdAt.toISOString(), data })
}

/** A control frame (its type has no dot, so it never collides with an event type). */
export const controlFrame = (type: string, fields: Record<string, unknown> = {}) =>
  JSON.stringify({ type, ...fields })
