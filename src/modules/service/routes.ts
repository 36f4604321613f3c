import { Elysia } from 'elysia'
import { z } from 'zod'
import type { Deps } from '../../deps'

import { readiness } from './service'

export const serviceRoutes = (deps: Deps) =>
  new Elysia({ tags: ['service'] })
    .get('/healthz', () => ({ status: 'ok' as const }), {
      response: { 200: z.object({ status: z.literal('ok') }) },
      detail: { summary: 'Liveness: the process answers' },
    })
    .get(
      '/readyz',
      async ({ set }) => {
        const r = await readiness(deps)
        if (!r.ready) set.status = 503
        return r
      },
      {
        response: {
          200: z.object({ ready: z.boolean(), database: z.string() }),
          503: z.object({ ready: z.boolean(), database: z.string() }),
        },
        detail: { summary: 'Readiness: the database answers' },
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
          summary: 'Prometheus metrics',
          responses: { 200: { description: 'Prometheus text format' } },
        },
      },
    )
