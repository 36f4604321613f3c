import { Elysia } from 'elysia'
import type { OpenAPIV3 } from 'openapi-types'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { requestMeta } from '../../http/request'
import { responses } from '../../http/schemas'
import { listTriggerCalls } from './calls'
import {
  CreatedTrigger,
  CreateTriggerBody,
  DeletedTrigger,
  HookAccepted,
  HookParams,
  ListQuery,
  Trigger,
  TriggerCallBody,
  TriggerCallList,
  TriggerList,
  TriggerParams,
  UpdateTriggerBody,
} from './model'
import { receiveHook } from './receive'
import { createTrigger, deleteTrigger, getTrigger, listTriggers, updateTrigger } from './service'

/** Webhook triggers, managed with the workspace key. */
export const triggerRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api/triggers', tags: ['triggers'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '',
      ({ ctx, body, set }) => {
        set.status = 201
        return createTrigger({ ctx, input: body })
      },
      {
        asWorkspace: true,
        body: CreateTriggerBody,
        parse: 'json',
        response: responses({ 201: CreatedTrigger }),
        detail: {
          operationId: 'createTrigger',
          summary: 'Create a webhook trigger: a public URL that turns verified calls into jobs for an agent',
          description:
            'The answer carries the trigger (its `url` is POST /hooks/{id}) and, when Switchboard made the ' +
            'secret (none given), that secret, shown this once. Secrets are stored sealed.',
        },
      },
    )
    .get('', ({ ctx, query }) => listTriggers({ ctx, input: query }), {
      asWorkspace: true,
      query: ListQuery,
      response: responses({ 200: TriggerList }, [400, 401, 403]),
      detail: { operationId: 'listTriggers', summary: 'The workspace’s webhook triggers, newest first' },
    })
    .get('/:id', ({ ctx, params }) => getTrigger({ ctx, input: params }), {
      asWorkspace: true,
      params: TriggerParams,
      response: responses({ 200: Trigger }),
      detail: { operationId: 'getTrigger', summary: 'One webhook trigger' },
    })
    .patch('/:id', ({ ctx, params, body }) => updateTrigger({ ctx, input: { ...body, ...params } }), {
      asWorkspace: true,
      params: TriggerParams,
      body: UpdateTriggerBody,
      parse: 'json',
      response: responses({ 200: Trigger }),
      detail: {
        operationId: 'updateTrigger',
        summary: 'Change a trigger: name, agent, protocol, verification, transform, enabled',
      },
    })
    .delete('/:id', ({ ctx, params }) => deleteTrigger({ ctx, input: params }), {
      asWorkspace: true,
      params: TriggerParams,
      response: responses({ 200: DeletedTrigger }),
      detail: { operationId: 'deleteTrigger', summary: 'Delete a trigger; its URL answers 404 at once' },
    })
    .get(
      '/:id/calls',
      ({ ctx, params, query }) => listTriggerCalls({ ctx, input: { ...query, ...params } }),
      {
        asWorkspace: true,
        params: TriggerParams,
        query: ListQuery,
        response: responses({ 200: TriggerCallList }),
        detail: {
          operationId: 'listTriggerCalls',
          summary: 'The trigger’s recent verified calls, newest first, with their outcome and job',
          description:
            'Calls that failed verification, were too large or rate limited are not stored (nothing is written ' +
            'for an unverified sender); they show in switchboard_http_requests_total{route="/hooks/:triggerId"}.',
        },
      },
    )

const anyBody: OpenAPIV3.RequestBodyObject = {
  required: false,
  content: {
    'application/json': { schema: z.toJSONSchema(TriggerCallBody) as OpenAPIV3.SchemaObject },
    '*/*': {
      schema: { description: 'Any other body up to 1 MB (SWITCHBOARD_BUFFERED_BODY_BYTES), as it is' },
    },
  },
}

/** The public end of the triggers: no Switchboard credential, the trigger's own verification. */
export const hookRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/hooks', tags: ['triggers'] }).post(
    '/:triggerId',
    // Named parts only ({ params, request }): Elysia then reads no body; the verb reads it, capped.
    ({ params, request }) =>
      receiveHook(deps, { triggerId: params.triggerId, request, requestId: requestMeta(request).id }),
    {
      params: HookParams,
      response: responses({ 202: HookAccepted }, [400, 401, 404, 413, 429]),
      detail: {
        security: [],
        operationId: 'callTrigger',
        summary: 'Call a webhook trigger: the body becomes a job for its agent (202 at once)',
        description:
          'No Switchboard token: the trigger verifies the call itself, in constant time, before anything is ' +
          'stored — a token in a header, a GitHub-style X-Hub-Signature-256 or Stripe-style Stripe-Signature ' +
          'HMAC, or Standard Webhooks signatures — else 401. Unknown or disabled: 404. The body (≤ 1 MB, 413) ' +
          'becomes an async job to the agent exactly as the async lane makes one; the answer is 202 {jobId}. ' +
          'Idempotency-Key, X-GitHub-Delivery or webhook-id deduplicates for 24 h: a repeat gets the same ' +
          '202 (with Idempotent-Replayed: true) and makes no job. Rate limited per client IP and per trigger (429).',
        requestBody: anyBody,
      },
    },
  )
