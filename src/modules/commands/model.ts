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

export const COMMAND_ACTIONS = ['restart', 'stop', 'expose', 'reach', 'status'] as const

const Params = z
  .record(z.string().max(100), JsonValue)
  .refine((p) => JSON.stringify(p).length <= 16_384, 'params are limited to 16 KB of JSON')
const Result = JsonValue.refine(
  (r) => JSON.stringify(r ?? null).length <= 65_536,
  'result is limited to 64 KB of JSON',
)

export const CommandBody = z
  .strictObject({
    action: z.enum(COMMAND_ACTIONS),
    params: Params.default({}).describe('Action-specific parameters'),
  })
  .meta({
    id: 'QueueCommandRequest',
    examples: [{ action: 'restart', params: { reason: 'config changed' } }],
  })

export const Queued = z
  .object({
    success: z.literal(true),
    commandId: Uuid,
    message: z.string(),
    agentOnline: z
      .boolean()
      .describe('The agent holds an open WebSocket, so the command is pushed now; else on its next connect'),
    status: z.literal('queued'),
  })
  .meta({ id: 'QueuedCommand' })

export const CommandParams = z.object({ agentId: AgentRef, commandId: Uuid })

export const CommandListQuery = z.object({
  pending: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe('true: queued or delivered, not yet acknowledged; false: acknowledged'),
  limit: limitQuery,
  cursor: cursorQuery,
})

export const Command = z
  .object({
    id: Uuid,
    agentId: Uuid,
    action: z.enum(COMMAND_ACTIONS),
    params: z.record(z.string(), JsonValue),
    status: z.enum(['queued', 'delivered', 'done', 'failed']),
    result: JsonValue.nullable(),
    createdAt: Timestamp,
    deliveredAt: NullableTimestamp,
    ackedAt: NullableTimestamp,
  })
  .meta({ id: 'Command' })

export const CommandList = z
  .object({
    commands: z.array(Command).describe('Oldest first'),
    nextCursor: NextCursor,
  })
  .meta({ id: 'CommandList' })

export const AckBody = z
  .strictObject({ status: z.enum(['done', 'failed']), result: Result.optional() })
  .meta({
    id: 'AckCommandRequest',
    examples: [{ status: 'done', result: { restartedAt: '2026-12-01T09:31:00.000Z' } }],
  })
