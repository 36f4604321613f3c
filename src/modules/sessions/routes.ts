import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { jsonBody } from '../../http/body'
import { limitByIp } from '../../http/request'
import { responses } from '../../http/schemas'
import { AppError } from '../../lib/errors'
import { crossSite, sessionActor, sessionValueOf } from './auth'
import { isHttps, sessionCookie } from './cookie'
import { ConsoleSession, SignedOut, SignInBody } from './model'
import { fromOwnOrigin } from './origin'
import { signIn, signOut } from './service'

const sessionSecurity = [{ consoleSession: [] }]

/**
 * Console sign-in: a workspace key in, a session cookie out. Every answer is `no-store`:
 * one carries a fresh session, and none of them may be replayed from a cache.
 */
export const sessionRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['console'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .onBeforeHandle(({ set }) => {
      set.headers['cache-control'] = 'no-store'
    })
    .post(
      '/session',
      async ({ request, body, set }) => {
        // Signing a browser into a workspace it did not choose is forgery too.
        if (!fromOwnOrigin(request, deps.config)) throw crossSite()
        const secure = isHttps(request, deps.config)
        const signed = await signIn(deps, { key: body.key, previous: sessionValueOf(deps, request) }).catch(
          (e) => {
            // Failed sign-ins count against the client's address: guessing keys gets slow.
            if (e instanceof AppError && e.code === 'unauthorized') limitByIp(deps, request)
            throw e
          },
        )
        set.headers['set-cookie'] = sessionCookie(signed.value, secure, signed.maxAgeSeconds)
        return signed.view
      },
      {
        body: SignInBody,
        parse: 'json',
        response: responses({ 200: ConsoleSession }, [400, 401, 403, 429]),
        detail: {
          operationId: 'signIn',
          summary: 'Sign in to the console with a workspace key (sets the session cookie)',
          description:
            'Answers the session and sets an HttpOnly, SameSite=Strict cookie (Secure over HTTPS). The request ' +
            'must come from the console’s own origin. A failed sign-in counts against the client’s address.',
          security: [{}],
        },
      },
    )
    .get(
      '/session',
      async ({ request }) => {
        const session = await sessionActor(deps, request)
        if (!session) throw new AppError('unauthorized', 'Not signed in')
        return session.view
      },
      {
        response: responses({ 200: ConsoleSession }, [401, 429]),
        detail: {
          operationId: 'currentSession',
          summary: 'The current console session',
          security: sessionSecurity,
        },
      },
    )
    .delete(
      '/session',
      async ({ request, set }) => {
        if (!fromOwnOrigin(request, deps.config)) throw crossSite()
        // The cookie goes whatever happens next: a browser never keeps one the server let go.
        set.headers['set-cookie'] = sessionCookie(null, isHttps(request, deps.config), 0)
        const value = sessionValueOf(deps, request)
        const session = value ? await sessionActor(deps, request) : null
        if (!value || !session) throw new AppError('unauthorized', 'Not signed in')
        await signOut(deps, value, session.actor)
        return { signedOut: true as const }
      },
      {
        response: responses({ 200: SignedOut }, [401, 403, 429]),
        detail: {
          operationId: 'signOut',
          summary: 'Sign out: the session ends at once and the cookie is cleared',
          description: 'The cookie is cleared on every answer, a 401 (no live session) included.',
          security: sessionSecurity,
        },
      },
    )
