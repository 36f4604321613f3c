import { z } from 'zod'
import { AgentRef, NextCursor, NullableTimestamp, Timestamp } from '../../http/schemas'
import { TRIGGER_ID_RE } from '../../lib/ids'
import { ProtocolNameSchema } from '../../lib/protocols'
import { HeaderName } from '../agents/model'
import { WebhookSecretValue } from '../webhooks/model'

export const TriggerId = z.string().regex(TRIGGER_ID_RE, 'must be a trigger id (trg_…)')
export const TriggerParams = z.object({ id: TriggerId })
/** The public hook URL answers 404 for anything that is not a trigger, so its parameter takes any short text. */
export const HookParams = z.object({ triggerId: z.string().max(200) })

const VERIFY_TYPES = ['none', 'token', 'hmac_sha256', 'standard_webhooks'] as const
const printable = /^[\x21-\x7e]+$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const PRINTABLE_TEXT = /^[^\u0000-\u001f\u007f]*$/

/** A secret of the trigger's own: printable, at least 16 characters (Standard Webhooks: a whsec_). */
const SharedSecret = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(512)
  .regex(printable, 'printable ASCII without spaces')

export const VerifyInput = z
  .strictObject({
    type: z.enum(VERIFY_TYPES),
    secret: z
      .string()
      .max(512)
      .optional()
      .describe('Write-only. Omitted: Switchboard makes one and shows it once'),
    header: HeaderName.optional().describe(
      'token: the header holding it (default Authorization, as Bearer); hmac_sha256: the signature header ' +
        '(default X-Hub-Signature-256; Stripe-Signature reads Stripe-style t=…,v1=…)',
    ),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'none' && (v.secret !== undefined || v.header !== undefined))
      ctx.addIssue({ code: 'custom', message: 'type none takes no secret and no header', path: ['type'] })
    if (v.type === 'standard_webhooks' && v.header !== undefined)
      ctx.addIssue({ code: 'custom', message: 'standard_webhooks reads its own headers', path: ['header'] })
    if (v.secret === undefined || v.type === 'none') return
    const check = v.type === 'standard_webhooks' ? WebhookSecretValue : SharedSecret
    for (const issue of check.safeParse(v.secret).error?.issues ?? [])
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['secret'] })
  })
  .meta({
    id: 'TriggerVerifyInput',
    description: 'How a call proves it comes from the sender',
    examples: [{ type: 'hmac_sha256', secret: 'a-long-shared-secret-1234', header: 'X-Hub-Signature-256' }],
  })

const Transform = z
  .enum(['raw', 'json_envelope'])
  .describe(
    'raw: the body and headers as sent; json_envelope: one JSON document with the headers, query and body',
  )

const fields = {
  name: z.string().trim().min(1).max(100).regex(PRINTABLE_TEXT, 'no control characters'),
  agentId: AgentRef,
  protocol: ProtocolNameSchema.nullable().describe("Deliver to the agent's URL for this protocol"),
  verify: VerifyInput,
  transform: Transform,
  enabled: z.boolean(),
}

export const CreateTriggerBody = z
  .strictObject({
    ...fields,
    protocol: fields.protocol.optional(),
    transform: fields.transform.default('raw'),
    enabled: fields.enabled.default(true),
  })
  .meta({
    id: 'CreateTriggerRequest',
    examples: [{ name: 'github pushes', agentId: 'agt-k3v9x2mq', verify: { type: 'hmac_sha256' } }],
  })
export type CreateTriggerInput = z.infer<typeof CreateTriggerBody>

export const UpdateTriggerBody = z
  .strictObject({
    name: fields.name.optional(),
    agentId: fields.agentId.optional(),
    protocol: fields.protocol.optional(),
    verify: fields.verify
      .optional()
      .describe('Replaces the verification; the secret stays when the type does'),
    transform: fields.transform.optional(),
    enabled: fields.enabled.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to update')
  .meta({ id: 'UpdateTriggerRequest', examples: [{ enabled: false }] })
export type UpdateTriggerInput = z.infer<typeof UpdateTriggerBody>

export const Trigger = z
  .object({
    id: z.string().describe('trg_… (160 random bits): the secret part of the hook URL'),
    url: z.string().describe('POST here: SWITCHBOARD_PUBLIC_URL + /hooks/{id}, or the path alone'),
    name: z.string(),
    agentId: z.uuid(),
    permanentId: z.string(),
    protocol: ProtocolNameSchema.nullable(),
    verify: z
      .object({
        type: z.enum(VERIFY_TYPES),
        header: z.string().nullable(),
        hasSecret: z.boolean(),
        secretHint: z.string().nullable().describe('The last 4 characters of the secret'),
      })
      .meta({ id: 'TriggerVerify' }),
    transform: z.enum(['raw', 'json_envelope']),
    enabled: z.boolean(),
    lastCalledAt: NullableTimestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Trigger' })

export const CreatedTrigger = z
  .object({
    trigger: Trigger,
    secret: z
      .string()
      .nullable()
      .describe('The secret Switchboard made (shown this once); null when you gave one'),
  })
  .meta({ id: 'CreatedTrigger' })

export const TriggerList = z
  .object({ triggers: z.array(Trigger), nextCursor: NextCursor })
  .meta({ id: 'TriggerList' })

export const DeletedTrigger = z
  .object({ id: z.string(), deleted: z.literal(true) })
  .meta({ id: 'DeletedTrigger' })

export const TriggerCall = z
  .object({
    id: z.uuid(),
    receivedAt: Timestamp,
    outcome: z
      .enum(['accepted', 'duplicate'])
      .describe('duplicate: a repeated delivery id, answered with its job'),
    jobId: z.uuid().nullable(),
    job: z
      .object({ status: z.enum(['running', 'completed', 'failed']), httpStatus: z.number().int().nullable() })
      .nullable()
      .describe("The job's state now (null once the job was cleared)"),
    deliveryId: z
      .string()
      .nullable()
      .describe('The Idempotency-Key, X-GitHub-Delivery or webhook-id it carried'),
    sourceIp: z.string().nullable(),
    contentType: z.string().nullable(),
    bytes: z.number().int(),
  })
  .meta({ id: 'TriggerCall' })

export const TriggerCallList = z
  .object({ calls: z.array(TriggerCall), nextCursor: NextCursor })
  .meta({ id: 'TriggerCallList' })

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
})

export const HookAccepted = z
  .object({ jobId: z.uuid().describe('The job made for the agent (the same for a repeated delivery)') })
  .meta({ id: 'HookAccepted' })

/** What a sender posts to a trigger: its own JSON (or any other body), passed on as the trigger says. */
export const TriggerCallBody = z
  .unknown()
  .describe("The sender's JSON — a GitHub or Stripe event, a form — or any other body, up to 1 MB")
  .meta({ id: 'TriggerCallBody' })
