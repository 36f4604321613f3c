import { Elysia } from 'elysia'
import css from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import bundleJs from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import { z } from 'zod'
import type { Deps } from '../deps'
import { buildDocument } from './openapi/document'

/** Starts Swagger UI on the document; a file of its own so the page needs no inline script. */
const INIT = `window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#swagger-ui', deepLinking: true })\n`

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Switchboard API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // Everything the page loads is ours; Swagger UI renders inline styles and data: images.
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
}

/**
 * Swagger UI at /docs and the OpenAPI 3.1 document at /docs/json. The UI's script and
 * stylesheet are embedded in the binary and served from /docs/assets, so the page needs no
 * CDN. The document is built once, on first request, from the routes the app serves.
 */
export function docsPlugin(deps: Deps) {
  const assets = {
    'swagger-ui-bundle.js': { body: () => Bun.file(bundleJs), type: 'text/javascript; charset=utf-8' },
    'swagger-ui.css': { body: () => Bun.file(css), type: 'text/css; charset=utf-8' },
    'init.js': { body: () => INIT, type: 'text/javascript; charset=utf-8' },
  } as const
  let document: ReturnType<typeof buildDocument> | undefined
  const plugin = new Elysia({ name: 'switchboard.docs', tags: ['service'] })
  return plugin
    .get('/docs', () => new Response(PAGE, { headers: HTML_HEADERS }), {
      detail: {
        operationId: 'getApiDocsPage',
        summary: 'Swagger UI for this document',
        responses: {
          200: { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
    })
    .get(
      '/docs/json',
      () => {
        document ??= buildDocument(plugin, { publicUrl: deps.config.publicUrl })
        return document
      },
      {
        response: {
          200: z
            .record(z.string(), z.unknown())
            .meta({ id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document' }),
        },
        detail: { operationId: 'getOpenApiDocument', summary: 'This OpenAPI 3.1 document' },
      },
    )
    .get(
      '/docs/assets/:file',
      ({ params, status }) => {
        const asset = assets[params.file as keyof typeof assets]
        if (!asset) return status(404, { error: 'No such asset', code: 'not_found' })
        return new Response(asset.body(), {
          headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' },
        })
      },
      { detail: { hide: true } },
    )
}
