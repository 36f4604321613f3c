import { z } from 'zod'
import {
  AgentRef,
  cursorQuery,
  JsonValue,
  limitQuery,
  NextCursor,
  NullableTimestamp,
  Timestamp,
  Uuid,
} from '../../http/schemas'

/** A message's payload travels in its `message.received` event too, so it is kept small. */
export const MAX_PAYLOAD_BYTES = 65_536
/** The longest a message may live (30 days); the default is SWITCHBOARD_MESSAGE_TTL_SECONDS. */
export const MAX_TTL_SECONDS = 2_592_000

const Payload = JsonValue.refine((v) => v !== undefined, 'payload is required')
  .refine(
    (v) => JSON.stringify(v).length <= MAX_PAYLOAD_BYTES,
    `payload is limited to ${MAX_PAYLOAD_BYTES} bytes of JSON`,
  )
  .describe('Any JSON value (usually an object)')
const Channel = z.string().trim().min(1).max(100).describe('For filtering the inbox')
const MessageTypeSchema = z.enum(['request', 'response', 'event', 'broadcast'])
const CorrelationId = z.string().min(1).max(200).describe('Pairs a response with its request')
const TtlSeconds = z.number().int().min(1).max(MAX_TTL_SECONDS)

export const SendBody = z
  .strictObject({
    toAgentId: AgentRef.describe('The recipient: UUID or permanent id, in the same workspace'),
    payload: Payload,
    channel: Channel.optional(),
    type: MessageTypeSchema.default('request'),
    correlationId: CorrelationId.optional(),
    ttlSeconds: TtlSeconds.optional(),
  })
  .meta({
    id: 'SendMessageRequest',
    examples: [
      {
        toAgentId: 'agt-p7d2w8zn',
        channel: 'tasks',
        payload: { task: 'summarize', url: 'https://example.com/a' },
      },
    ],
  })

export const BroadcastBody = z
  .strictObject({
    payload: Payload,
    channel: Channel.optional(),
    type: MessageTypeSchema.default('broadcast'),
    correlationId: CorrelationId.optional(),
    ttlSeconds: TtlSeconds.optional(),
  })
  .meta({
    id: 'BroadcastMessageRequest',
    examples: [{ channel: 'ops', payload: { notice: 'deploying at 10:00' } }],
  })

export const Sent = z
  .object({ success: z.literal(true), messageId: Uuid, expiresAt: Timestamp })
  .meta({ id: 'SentMessage' })

export const Broadcasted = z
  .object({
    success: z.literal(true),
    recipients: z.number().int().describe('Every other active, non-archived agent of the workspace'),
    messageIds: z.array(Uuid),
    expiresAt: Timestamp,
  })
  .meta({ id: 'BroadcastedMessage' })

export const InboxQuery = z.object({
  channel: Channel.optional(),
  unreadOnly: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  limit: limitQuery,
  cursor: cursorQuery,
})

export const Message = z
  .object({
    id: Uuid,
    from: Uuid.nullable().describe('The sending agent'),
    channel: z.string().nullable(),
    type: MessageTypeSchema,
    payload: JsonValue,
    correlationId: z.string().nullable(),
    createdAt: Timestamp,
    expiresAt: NullableTimestamp,
    readAt: NullableTimestamp,
  })
  .meta({ id: 'Message' })

export const Inbox = z
  .object({ messages: z.array(Message).describe('Oldest first'), nextCursor: NextCursor })
  .meta({ id: 'Inbox' })

export const ReadBody = z.strictObject({ messageIds: z.array(Uuid).min(1).max(500) }).meta({
  id: 'MarkMessagesReadRequest',
  examples: [{ messageIds: ['3f0c9a1e-7b2d-4c5e-8f6a-1b2c3d4e5f60'] }],
})
export const MarkedRead = z
  .object({
    success: z.literal(true),
    marked: z.number().int().describe("How many of the agent's unread, unexpired messages were marked"),
  })
  .meta({ id: 'MarkedRead' })
