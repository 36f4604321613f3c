import createClient, { type Middleware } from 'openapi-fetch'
import { ApiError } from './errors'
import type { components, paths } from './schema'

export { ApiError, fieldErrors, messageOf } from './errors'

/**
 * The API, typed by the document the server itself serves at /docs/json (generated into
 * schema.d.ts at build time). Same origin: the session cookie goes along by itself, and the
 * browser adds Origin / Sec-Fetch-Site, which the server's CSRF check reads.
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })

export type Schemas = components['schemas']

type Result<T> = { data?: T; error?: unknown; response: Response }

/** The answer's body, or an ApiError carrying the server's `{error, code, details}`. */
export async function call<T>(request: Promise<Result<T>>): Promise<T> {
  let result: Result<T>
  try {
    result = await request
  } catch {
    throw new ApiError(0, 'network', 'Switchboard could not be reached. Check the connection and try again.')
  }
  const { data, error, response } = result
  if (response.ok && error === undefined) return data as T
  const body = (error ?? {}) as { error?: string; code?: string; details?: unknown }
  throw new ApiError(
    response.status,
    body.code ?? 'error',
    body.error ?? `The server answered ${response.status}`,
    body.details,
  )
}

const ended = new Set<() => void>()
/** Called when the server says the session is gone (401 anywhere but the sign-in itself). */
export function onSessionEnded(fn: () => void) {
  ended.add(fn)
  return () => ended.delete(fn)
}
export const sessionEnded = () => {
  for (const fn of ended) fn()
}

const watchSession: Middleware = {
  onResponse({ request, response }) {
    if (response.status === 401 && !request.url.endsWith('/api/session')) sessionEnded()
    return response
  },
}
api.use(watchSession)
