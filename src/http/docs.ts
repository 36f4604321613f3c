import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import css from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import bundleJs from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import { z } from 'zod'
import pkg from '../../package.json'

/**
 * OpenAPI 3 at /docs/json and Swagger UI at /docs. The UI's script and stylesheet are
 * embedded in the binary and served from /docs/assets, so the page needs no CDN.
 */
export function docsPlugin() {
  const assets = {
    'swagger-ui-bundle.js': { path: bundleJs, type: 'text/javascript; charset=utf-8' },
    'swagger-ui.css': { path: css, type: 'text/css; charset=utf-8' },
  } as const
  return new Elysia({ name: 'switchboard.docs' })
    .use(
      openapi({
        path: '/docs',
        specPath: '/docs/json',
        provider: 'swagger-ui',
        mapJsonSchema: { zod: z.toJSONSchema },
        exclude: { paths: ['/docs', '/docs/json', '/docs/assets/:file'] },
        swagger: {
          cdn: '/docs/assets/swagger-ui-bundle.js',
          theme: '/docs/assets/swagger-ui.css',
          autoDarkMode: false,
        },
        documentation: {
          info: {
            title: 'Switchboard',
            version: pkg.version,
            description:
              'Registry and gateway for AI agents. Errors are always `{ error, code, details? }`. ' +
              'Lists take `?limit=` (1–500, default 50) and `?cursor=` and answer `nextCursor`.',
          },
          tags: [
            { name: 'workspaces', description: 'Workspaces, their keys and their callback signing secret' },
            { name: 'agents', description: 'The agent registry and token lifecycle' },
            { name: 'presence', description: 'Heartbeats and presence' },
            { name: 'health', description: 'Scheduled health checks of agent endpoints' },
            { name: 'messages', description: 'Agent-to-agent messages with channels and TTL' },
            { name: 'commands', description: 'Remote commands, pushed over the WebSocket and acknowledged' },
            { name: 'live', description: 'The live event stream (WebSocket)' },
            { name: 'audit', description: 'Audit logs' },
            { name: 'connections', description: 'Lines between two agents' },
            { name: 'broadcast-groups', description: 'Groups of agents a broadcast fans out to' },
            { name: 'pools', description: 'Load-balanced pools of agents with priorities' },
            { name: 'proxy', description: 'The proxy lanes: sync, async, broadcast, pool (agent tokens)' },
            {
              name: 'jobs',
              description: 'Async jobs: poll, list, clear, report the outcome; signed callbacks',
            },
            { name: 'teams', description: 'Team-scoped aliases (the team is the workspace)' },
            { name: 'service', description: 'Health, readiness and metrics' },
            {
              name: 'console',
              description: 'Console sign-in: a session cookie that acts as a workspace key',
            },
          ],
          components: {
            securitySchemes: {
              adminToken: { type: 'http', scheme: 'bearer', description: 'SWITCHBOARD_ADMIN_TOKEN' },
              workspaceKey: {
                type: 'http',
                scheme: 'bearer',
                description: 'A workspace key (wk_…); x-api-key also works',
              },
              agentToken: {
                type: 'http',
                scheme: 'bearer',
                description: 'An agent token (tk_… or pre-generated)',
              },
              consoleSession: {
                type: 'apiKey',
                in: 'cookie',
                name: 'sb_session',
                description:
                  'A console sign-in (POST /api/session); `__Host-sb_session` over HTTPS. Acts as the workspace ' +
                  'key it was opened with; state-changing requests must come from the console’s own origin',
              },
            },
          },
        },
      }),
    )
    .get(
      '/docs/assets/:file',
      ({ params, status }) => {
        const asset = assets[params.file as keyof typeof assets]
        if (!asset) return status(404, { error: 'No such asset', code: 'not_found' })
        return new Response(Bun.file(asset.path), {
          headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' },
        })
      },
      { detail: { hide: true } },
    )
}
