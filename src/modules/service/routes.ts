import { Elysia } from 'elysia'
import { z } from 'zod'
import type { Deps } from '../../deps'

import { readiness } from './service'

const Liveness = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' })
const Readiness = z
  .object({ ready: z.boolean(), database: z.string().describe('The database dialect: sqlite or postgres') })
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
        if (!r.ready) set.status = 503
        return r
      },
      {
        response: { 200: Readiness, 503: Readiness.describe('Not ready: the database did not answer') },
        detail: { operationId: 'getReadiness', summary: 'Readiness: the database answers' },
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
