import { Elysia } from 'elysia'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { responses } from '../../http/schemas'
import { upgradeCredential } from './auth'
import { handleFrame } from './frames'
import type { LiveHub, StreamCredential } from './hub'
import { streamInfo } from './info'
import { SinceQuery } from './protocol'
import type { Raw } from './session'

const StreamQuery = z.object({
  token: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe('A workspace key or agent token (browsers cannot set headers)'),
  since: SinceQuery.optional().describe(
    'Replay the stored events after this id, then go live; empty: from now',
  ),
})

const StreamInfo = z
  .object({
    cursor: z
      .number()
      .int()
      .describe('The newest event id now: connect with ?since= this to miss nothing from here'),
    eventTypes: z.array(z.string()),
    closeCodes: z.array(z.object({ code: z.number().int(), name: z.string(), meaning: z.string() })),
  })
  .meta({ id: 'LiveStreamInfo' })

/** What the upgrade request leaves on the socket's context for `open`. */
type Upgraded = { streamCredential?: StreamCredential | null; query: { since?: number } }

/**
 * `GET /api/ws`: the live event stream. An upgrade request becomes a socket; a plain GET
 * answers where the stream is now. Frames, close codes and resume: README "Live events".
 */
export const wsRoutes = (deps: Deps, hub: LiveHub) =>
  new Elysia({ prefix: '/api', tags: ['live'] })
    .use(authPlugin(deps))
    .get('/ws', ({ ctx }) => streamInfo({ ctx }), {
      asMember: true,
      response: responses({ 200: StreamInfo }, [401, 403]),
      detail: {
        operationId: 'getLiveStream',
        summary: 'The live event stream (upgrade to a WebSocket); a plain GET answers its current cursor',
        description:
          'Upgrade with `Authorization: Bearer …`, `?token=`, or a first frame `{"type":"auth","token":…}` ' +
          '(within SWITCHBOARD_WS_AUTH_TIMEOUT_MS). Events arrive as `{id, type, at, data}`; `?since=<id>` or ' +
          '`{"type":"resume","since":…}` replays stored events after the id, then goes live. ' +
          '`{"type":"subscribe","types":[…]}` filters; `{"type":"ping"}` answers `{"type":"pong"}`. ' +
          'A bad header or query credential is refused before the upgrade (401/403); see the README for the close codes.',
      },
    })
    .ws('/ws', {
      query: StreamQuery,
      detail: { hide: true },
      async beforeHandle(c) {
        ;(c as unknown as Upgraded).streamCredential = hub.admit(
          await upgradeCredential(deps, c.request, c.query.token),
        )
      },
      open(ws) {
        const data = ws.data as unknown as Upgraded
        hub.open(ws.raw as Raw, data.streamCredential ?? null, data.query.since)
      },
      message(ws, message) {
        return handleFrame(deps, hub, ws.raw as Raw, message).catch((e) =>
          deps.log.error('live frame failed', { error: e }),
        )
      },
      drain(ws) {
        hub.drain(ws.raw as Raw)
      },
      close(ws, code) {
        hub.closed(ws.raw as Raw, code)
      },
    })
