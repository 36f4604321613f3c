import { Elysia } from 'elysia'
import type { Deps } from '../deps'
import { agentRoutes } from '../modules/agents/routes'
import { appConnectionRoutes, appExecuteRoutes } from '../modules/apps/routes'
import { auditRoutes } from '../modules/audit/routes'
import { commandRoutes } from '../modules/commands/routes'
import { connectionRoutes } from '../modules/connections/routes'
import { consoleRoutes } from '../modules/console/routes'
import { groupRoutes } from '../modules/groups/routes'
import { healthRoutes } from '../modules/health/routes'
import { jobRoutes } from '../modules/jobs/routes'
import { messageRoutes } from '../modules/messages/routes'
import { poolRoutes } from '../modules/pools/routes'
import { presenceRoutes } from '../modules/presence/routes'
import { proxyRoutes } from '../modules/proxy/routes'
import { relayRoutes } from '../modules/relays/routes'
import { serviceRoutes } from '../modules/service/routes'
import { sessionRoutes } from '../modules/sessions/routes'
import { tokenRoutes } from '../modules/tokens/routes'
import { hookRoutes, triggerRoutes } from '../modules/triggers/routes'
import { webhookRoutes } from '../modules/webhooks/routes'
import { workspaceRoutes } from '../modules/workspaces/routes'
import { wsRoutes } from '../modules/ws/routes'
import { docsPlugin } from './docs'
import { errorPlugin } from './errors'
import { fastRoutes } from './fast'
import { requestPlugin } from './request'

/**
 * The whole HTTP surface, composed from one Elysia instance per domain. When it listens, the
 * hottest routes are taken by Bun's router ahead of the framework's per-route work
 * (`fastRoutes`, same hooks and answers); `app.handle()` always runs the framework path.
 */
export function createApp(deps: Deps) {
  const app = new Elysia({
    // reusePort off (Elysia turns it on): a second instance on a port in use must fail to
    // start, not silently share its traffic.
    serve: { maxRequestBodySize: deps.config.maxBodyBytes, idleTimeout: 255, reusePort: false },
    websocket: {
      // Our own limit (SWITCHBOARD_WS_MAX_BUFFER_BYTES) closes a slow socket first; Bun's,
      // above it, would drop frames silently, which must never happen.
      backpressureLimit: deps.config.live.maxBufferBytes + 64 * 1024 * 1024,
      closeOnBackpressureLimit: false,
      // Clients answer our keepalive pings; one silent for three of them is gone.
      idleTimeout: Math.min(960, Math.max(8, Math.ceil((deps.config.live.pingMs * 3) / 1000))),
      sendPings: true,
      maxPayloadLength: 64 * 1024,
      perMessageDeflate: false,
    },
  })
    .use(requestPlugin(deps))
    .use(errorPlugin(deps))
    .use(docsPlugin(deps))
    .use(serviceRoutes(deps))
    .use(workspaceRoutes(deps))
    .use(sessionRoutes(deps))
    .use(agentRoutes(deps))
    .use(tokenRoutes(deps))
    .use(presenceRoutes(deps))
    .use(auditRoutes(deps))
    .use(connectionRoutes(deps))
    .use(healthRoutes(deps))
    .use(messageRoutes(deps))
    .use(commandRoutes(deps))
    .use(wsRoutes(deps, deps.live))
    .use(groupRoutes(deps))
    .use(poolRoutes(deps))
    .use(proxyRoutes(deps))
    .use(relayRoutes(deps))
    .use(jobRoutes(deps))
    .use(webhookRoutes(deps))
    .use(triggerRoutes(deps))
    .use(hookRoutes(deps))
    .use(appConnectionRoutes(deps))
    .use(appExecuteRoutes(deps))
    .use(consoleRoutes())
  if (deps.config.fastPath) app.config.serve = { ...app.config.serve, routes: fastRoutes(app) }
  return app
}

export type App = ReturnType<typeof createApp>
