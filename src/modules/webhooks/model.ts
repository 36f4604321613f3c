import { z } from 'zod'
import { AgentRef, NextCursor, NullableTimestamp, Timestamp, Uuid } from '../../http/schemas'
import { AGENT_WEBHOOK_EVENTS } from './events'

/** A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 random bytes. */
export const WebhookSecretValue = z
  .string()
  .max(100)
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64')
  .refine((s) => {
    const bytes = Buffer.from(s.slice(6), 'base64').length
    return bytes >= 24 && bytes <= 64
  }, 'must hold 24 to 64 bytes (e.g. whsec_$(openssl rand -base64 32))')

export const WebhookEventName = z.enum(AGENT_WEBHOOK_EVENTS)

export const WebhookEvents = z
  .array(WebhookEventName)
  .max(AGENT_WEBHOOK_EVENTS.length)
  .refine((l) => new Set(l).size === l.length, 'event types must be unique')
  .describe('The event types the webhook URL receives (default: all of them)')

/** The webhook fields of a registration. */
export const webhookRegisterFields = {
  webhookEvents: WebhookEvents.optional(),
  webhookSecret: WebhookSecretValue.optional().describe(
    "Write-only: signs this agent's webhooks instead of the workspace secret",
  ),
}

/** The webhook fields of a PATCH: null resets to the default (all events; the workspace secret). */
export const webhookUpdateFields = {
  webhookEvents: WebhookEvents.nullable().optional(),
  webhookSecret: WebhookSecretValue.nullable()
    .optional()
    .describe(
      'Write-only; a new one keeps the previous signing beside it for 24 h; null: the workspace secret',
    ),
  webhookEnabled: z
    .boolean()
    .optional()
    .describe('true re-enables a webhook that was disabled (clearing its failure record); false disables it'),
}

export const WebhookAttempt = z
  .object({
    attempt: z.number().int(),
    at: Timestamp,
    httpStatus: z.number().int().nullable().describe('null when no answer came (network error, timeout)'),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    responseExcerpt: z
      .string()
      .nullable()
      .describe("The first bytes (at most 1 KB) of the receiver's answer"),
  })
  .meta({ id: 'WebhookAttempt' })

export const WebhookDelivery = z
  .object({
    id: z.uuid(),
    webhookId: z.string().describe('The webhook-id header: the event id, the same on every attempt'),
    eventId: z.number().int(),
    eventType: z.string(),
    url: z.string(),
    status: z.enum(['pending', 'delivered', 'failed', 'gone']),
    attempts: z.number().int(),
    nextAttemptAt: NullableTimestamp.describe('When the next attempt is due (null: none)'),
    lastAttemptAt: NullableTimestamp,
    lastHttpStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastDurationMs: z.number().int().nullable(),
    lastResponseExcerpt: z.string().nullable(),
    createdAt: Timestamp,
    finishedAt: NullableTimestamp,
    payload: z.unknown().describe('The body sent: the {id, type, at, data} frame of the live stream'),
    attemptLog: z.array(WebhookAttempt).describe('The attempts, oldest first'),
  })
  .meta({ id: 'WebhookDelivery' })

export const WebhookDeliveryList = z
  .object({ deliveries: z.array(WebhookDelivery), nextCursor: NextCursor })
  .meta({ id: 'WebhookDeliveryList' })

export const DeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
  status: z.enum(['pending', 'delivered', 'failed', 'gone']).optional(),
})

export const DeliveryParams = z.object({ agentId: AgentRef, deliveryId: Uuid })

/** A retry or a test send takes no options: an empty or absent body. */
export const RetryDeliveryBody = z.strictObject({}).default({}).meta({ id: 'RetryWebhookDeliveryRequest' })
export const TestWebhookBody = z.strictObject({}).default({}).meta({ id: 'TestWebhookRequest' })
