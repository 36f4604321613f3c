import { z } from 'zod'
import { NullableTimestamp } from '../../http/schemas'

export const WebhookSecret = z
  .object({
    secret: z.string().describe('whsec_…: verify callbacks with any Standard Webhooks library'),
    previousSecretValidUntil: NullableTimestamp.describe(
      'After a rotation the previous secret signs beside this one until then',
    ),
  })
  .meta({ id: 'WebhookSecret' })

/** Rotation takes no options: an empty or absent body. */
export const RotateSecretBody = z.strictObject({}).default({}).meta({ id: 'RotateWebhookSecretRequest' })
