import { Elysia } from 'elysia'
import { z } from 'zod'
import { RETRY_AFTER_SECONDS } from '../../db/health'
import type { Deps } from '../../deps'
import { presentedSecret } from '../../http/auth'
import { safeEqual } from '../../lib/crypto'
import { AppError } from '../../lib/errors'

import { readiness } from './service'

const Liveness = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' })
const Readiness = z
  .object({
    ready: z.boolean(),
    database: z.string().describe('The database dialect: sqlite or postgres'),
    reason: z
      .enum(['database_unavailable', 'storage_unavailable'])
      .optional()
      .describe('Why not: the error code requests get meanwhile'),
    cause: z
      .string()
      .optional()
      .describe("The driver's name for it: ECONNREFUSED, timeout, SQLITE_FULL, EROFS…"),
  })
  .meta({ id: 'Readiness' })

export const serviceRoutes = (deps: Deps) =>
  new Elysia({ tags: ['service'] })
    .get('/healthz', () => ({ status: 'ok' as const }), {
      response: { 200: Liveness },
      detail: { operationId: 'getLiveness', summary: 'Liveness: the process answers' },
    })
    .get(
      '/readyz',
      async ({ set }) => {
        const r = await readiness(deps)
        if (!r.ready) {
          set.status = 503
          set.headers['retry-after'] = String(RETRY_AFTER_SECONDS)
        }
        return r
      },
      {
        response: { 200: Readiness, 503: Readiness.describe('Not ready: the database cannot take a write') },
        detail: { operationId: 'getReadiness', summary: 'Readiness: the database can take a write' },
      },
    )
    .get(
      '/metrics',
      async ({ request }) => {
        const token = deps.config.metrics.token
        if (token) {
          const presented = presentedSecret(request)
          if (presented?.via !== 'bearer' || !safeEqual(presented.secret, token))
            throw new AppError(
              'unauthorized',
              'This scrape needs Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>',
            )
        }
        return new Response(await deps.metrics.scrape(), {
          headers: {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
            'cache-control': 'no-store',
          },
        })
      },
      {
        detail: {
          operationId: 'scrapeMetrics',
          summary: 'Prometheus metrics',
          description:
            'Prometheus text format. With SWITCHBOARD_METRICS_TOKEN set it takes that token as a bearer ' +
            'credential (and nothing else); otherwise it is open, so keep it off the public network.',
          security: deps.config.metrics.token ? [{ metricsToken: [] }] : [],
          responses: {
            200: {
              description: 'Prometheus text format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...(deps.config.metrics.token
              ? {
                  401: {
                    description: 'Missing or wrong metrics token',
                    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
                  },
                }
              : {}),
          },
        },
      },
    )
