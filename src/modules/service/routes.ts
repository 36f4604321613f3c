import { Elysia } from 'elysia'
import { z } from 'zod'
import { RETRY_AFTER_SECONDS } from '../../db/health'
import type { Deps } from '../../deps'

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
      () =>
        new Response(deps.metrics.render(), {
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        }),
      {
        detail: {
          operationId: 'scrapeMetrics',
          summary: 'Prometheus metrics',
          responses: {
            200: {
              description: 'Prometheus text format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    )
