import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { AgentParams, responses } from '../../http/schemas'
import {
  getWebhookDelivery,
  listWebhookDeliveries,
  retryWebhookDelivery,
  sendTestWebhook,
} from './deliveries'
import {
  DeliveriesQuery,
  DeliveryParams,
  RetryDeliveryBody,
  TestWebhookBody,
  WebhookDelivery,
  WebhookDeliveryList,
} from './model'

/** An agent's webhook deliveries (the workspace key, or the agent's own token). */
export const webhookRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api/agents/:agentId/webhook-deliveries', tags: ['webhooks'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .get('', ({ ctx, params, query }) => listWebhookDeliveries({ ctx, input: { ...query, ...params } }), {
      asMember: true,
      params: AgentParams,
      query: DeliveriesQuery,
      response: responses({ 200: WebhookDeliveryList }),
      detail: {
        operationId: 'listWebhookDeliveries',
        summary: "The agent's webhook deliveries, newest first, with every attempt",
        description:
          'Each delivery is one event sent to the agent’s webhookUrl: its status (pending, delivered, failed, ' +
          'gone), the next attempt, and per attempt the HTTP status, the duration and the first KB of the answer.',
      },
    })
    .post(
      '/test',
      ({ ctx, params, set }) => {
        set.status = 202
        return sendTestWebhook({ ctx, input: params })
      },
      {
        asMember: true,
        params: AgentParams,
        body: TestWebhookBody,
        parse: 'json',
        response: responses({ 202: WebhookDelivery }),
        detail: {
          operationId: 'sendTestWebhook',
          summary: 'Send a webhook.test event to the agent’s webhook URL now',
          description:
            'A `webhook.test` event is written and sent through the outbox, signed as any other, whatever ' +
            'webhookEvents says and also while the webhook is disabled. Answers the delivery, pending: poll it.',
        },
      },
    )
    .get('/:deliveryId', ({ ctx, params }) => getWebhookDelivery({ ctx, input: params }), {
      asMember: true,
      params: DeliveryParams,
      response: responses({ 200: WebhookDelivery }),
      detail: { operationId: 'getWebhookDelivery', summary: 'One webhook delivery with its attempts' },
    })
    .post('/:deliveryId/retry', ({ ctx, params }) => retryWebhookDelivery({ ctx, input: params }), {
      asMember: true,
      params: DeliveryParams,
      body: RetryDeliveryBody,
      parse: 'json',
      response: responses({ 200: WebhookDelivery }, [400, 401, 403, 404, 409]),
      detail: {
        operationId: 'retryWebhookDelivery',
        summary: 'Send one delivery again, now',
        description:
          'The same body and webhook-id, to the agent’s current webhook URL, as its next attempt (a delivery ' +
          'that ran out of attempts gets one more). 409 while it is being sent; 400 while the webhook is ' +
          'disabled or the agent has no webhook URL.',
      },
    })
