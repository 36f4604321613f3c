import { Elysia } from 'elysia'
import { type ConsoleFile, consoleBundle } from './bundle'

/**
 * The console's Content-Security-Policy: only our own origin, no inline script or style, no
 * plugins, no framing, no `<base>` games. `connect-src 'self'` covers the API and the
 * same-origin WebSocket.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ')

const PAGE_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/**
 * The console's addresses. Each serves the same page, so a deep link or a reload lands on
 * the right screen; the page's own router draws it. Anything else keeps the API's 404.
 */
export const CONSOLE_PATHS = [
  '/',
  '/sign-in',
  '/agents',
  '/agents/*',
  '/connections',
  '/groups',
  '/pools',
  '/jobs',
  '/app-connections',
  '/app-connections/*',
  '/workspace',
  '/audit',
] as const

function serve(request: Request, file: ConsoleFile, cache: string) {
  const headers = { ...PAGE_HEADERS, 'content-type': file.type, etag: file.etag, 'cache-control': cache }
  if (request.headers.get('if-none-match') === file.etag) return new Response(null, { status: 304, headers })
  return new Response(file.body, { headers })
}

/** The web console: its page at every console address, and its hashed scripts and styles. */
export const consoleRoutes = () => {
  const app = new Elysia({ name: 'switchboard.console', detail: { hide: true } })
  for (const path of CONSOLE_PATHS) {
    // The page itself is revalidated on every load, so a new release is picked up at once.
    app.get(path, ({ request }) => serve(request, consoleBundle.index, 'no-cache'), {
      detail: { hide: true },
    })
  }
  for (const [name, file] of consoleBundle.assets) {
    // Asset names carry their content hash: they never change under the same name.
    app.get(`/${name}`, ({ request }) => serve(request, file, 'public, max-age=31536000, immutable'), {
      detail: { hide: true },
    })
  }
  return app
}
