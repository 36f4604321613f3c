import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { responses } from '../../http/schemas'
import { ClearedJob, Job, JobList, JobParams, ListJobsQuery, StatusReport } from './model'
import { clearJob, getJob, listJobs, reportStatus } from './service'

export const jobRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['jobs'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .get('/jobs', ({ ctx, query }) => listJobs({ ctx, input: query }), {
      asMember: true,
      query: ListJobsQuery,
      response: responses({ 200: JobList }, [400, 401, 403]),
      detail: {
        operationId: 'listJobs',
        summary: 'Jobs, newest first (filters: status, role)',
        description:
          'An agent token lists the jobs it started or received (also as a fallback); a workspace key those of ' +
          'its agents, including jobs other workspaces sent them over board connections.',
      },
    })
    .get('/jobs/:jobId', ({ ctx, params }) => getJob({ ctx, input: params }), {
      asMember: true,
      params: JobParams,
      response: responses({ 200: Job }),
      detail: {
        operationId: 'getJob',
        summary: 'Poll a job',
        description:
          "The caller's or the target's agent token (or the fallback's that handled it), the owning workspace's " +
          "key, or the target's workspace key. Shows the result or error and the callback's delivery with every attempt.",
      },
    })
    .delete('/jobs/:jobId', ({ ctx, params }) => clearJob({ ctx, input: params }), {
      asMember: true,
      params: JobParams,
      response: responses({ 200: ClearedJob }),
      detail: {
        operationId: 'clearJob',
        summary: 'Clear a job (and its callback record); the same credentials as polling',
      },
    })
    .post(
      '/jobs/:jobId/status',
      ({ ctx, params, body }) => reportStatus({ ctx, input: { ...body, ...params } }),
      {
        asAgent: true,
        params: JobParams,
        body: StatusReport,
        parse: 'json',
        response: responses({ 200: Job }, [400, 401, 403, 404, 409]),
        detail: {
          operationId: 'reportJobStatus',
          summary: 'Report how a job ended (the target agent, or the fallback that handled it)',
          description:
            'Makes a running job completed or failed, grows the handling agent’s taskCount on completion and ' +
            'sends the callback. A job that is already final answers 409. Other participants get 403.',
        },
      },
    )
