import { Elysia } from 'elysia'
import type { Deps } from '../deps'
import { agentRoutes } from '../modules/agents/routes'
import { auditRoutes } from '../modules/audit/routes'
import { connectionRoutes } from '../modules/connections/routes'
import { groupRoutes } from '../modules/groups/routes'
import { jobRoutes } from '../modules/jobs/routes'
import { poolRoutes } from '../modules/pools/routes'
import { presenceRoutes } from '../modules/presence/routes'
import { proxyRoutes } from '../modules/proxy/routes'
import { serviceRoutes } from '../modules/service/routes'
import { tokenRoutes } from '../modules/tokens/routes'
import { workspaceRoutes } from '../modules/workspaces/routes'
import { docsPlugin } from './docs'
import { errorPlugin } from './errors'
import { requestPlugin } from './request'

/** The whole HTTP surface, composed from one Elysia instance per domain. */
export function createApp(deps: Deps) {
  return new Elysia({
    serve: { maxRequestBodySize: deps.config.maxBodyBytes, idleTimeout: 255 },
  })
    .use(requestPlugin(deps))
    .use(errorPlugin(deps))
    .use(docsPlugin())
    .use(serviceRoutes(deps))
    .use(workspaceRoutes(deps))
    .use(agentRoutes(deps))
    .use(tokenRoutes(deps))
    .use(presenceRoutes(deps))
    .use(auditRoutes(deps))
    .use(connectionRoutes(deps))
    .use(groupRoutes(deps))
    .use(poolRoutes(deps))
    .use(proxyRoutes(deps))
    .use(jobRoutes(deps))
}

export type App = ReturnType<typeof createApp>
