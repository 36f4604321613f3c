import { z } from 'zod'
import { AgentRef, NextCursor, NullableTimestamp, Timestamp } from '../../http/schemas'
import { AllowedCallerIds, Description, MemberAgent, ObjectName } from '../groups/model'

export const MAX_POOL_MEMBERS = 100

export const Strategy = z
  .enum(['round_robin', 'failover', 'random'])
  .describe(
    'round_robin: an even spread (per instance); failover: lowest priority number first, ties by membership age; random',
  )
export const Priority = z
  .number()
  .int()
  .min(0)
  .max(1_000_000)
  .describe('failover tries lower numbers first; other strategies ignore it')

export const PoolMemberInput = z
  .strictObject({ agentId: AgentRef, priority: Priority.default(0) })
  .meta({ id: 'NewPoolMember', examples: [{ agentId: 'agt-m4q8r1ts', priority: 1 }] })

export const CreatePoolBody = z
  .strictObject({
    name: ObjectName,
    description: Description.optional(),
    strategy: Strategy,
    allowedCallerIds: AllowedCallerIds.optional(),
    members: z.array(PoolMemberInput).max(MAX_POOL_MEMBERS).optional(),
  })
  .meta({
    id: 'CreatePoolRequest',
    examples: [
      {
        name: 'summarizers',
        strategy: 'failover',
        members: [
          { agentId: 'agt-k3v9x2mq', priority: 0 },
          { agentId: 'agt-p7d2w8zn', priority: 1 },
        ],
      },
    ],
  })
export type CreatePoolInput = z.infer<typeof CreatePoolBody>

export const UpdatePoolBody = z
  .strictObject({
    name: ObjectName.optional(),
    description: Description.nullable().optional(),
    strategy: Strategy.optional(),
    allowedCallerIds: AllowedCallerIds.optional(),
  })
  .meta({ id: 'UpdatePoolRequest', examples: [{ strategy: 'round_robin' }] })
export type UpdatePoolInput = z.infer<typeof UpdatePoolBody>

export const UpdateMemberBody = z
  .strictObject({ priority: Priority })
  .meta({ id: 'UpdatePoolMemberRequest', examples: [{ priority: 2 }] })

export const PoolMember = z
  .object({
    ...MemberAgent,
    priority: z.number().int(),
    consecutiveFailures: z.number().int().describe('Passive health on this instance'),
    ejectedUntil: NullableTimestamp.describe('Ejected by passive health on this instance until then'),
  })
  .meta({ id: 'PoolMember' })

const PoolFields = {
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  strategy: Strategy,
  allowedCallerIds: z.array(z.uuid()).nullable().describe('null: any agent of the workspace may call'),
  memberCount: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}
export const PoolSummary = z.object(PoolFields).meta({ id: 'PoolSummary' })
export const Pool = z.object({ ...PoolFields, members: z.array(PoolMember) }).meta({ id: 'Pool' })
export const PoolList = z
  .object({ pools: z.array(PoolSummary), nextCursor: NextCursor })
  .meta({ id: 'PoolList' })

/** One try on the pool lane, as listed when the pool is exhausted. */
export const PoolAttempt = z
  .object({
    memberId: z.uuid().describe('The membership id'),
    agentId: z.uuid(),
    permanentId: z.string(),
    handledBy: z
      .string()
      .nullable()
      .describe('Permanent id of the agent called (the member or its fallback)'),
    httpStatus: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int(),
  })
  .meta({ id: 'PoolAttempt' })
export type PoolAttemptView = z.infer<typeof PoolAttempt>

export const PoolExhausted = z
  .object({
    error: z.string(),
    code: z.literal('pool_exhausted'),
    details: z.object({ attempts: z.array(PoolAttempt) }),
  })
  .describe('Every member failed (network error, timeout or 5xx), or none could be called')
  .meta({ id: 'PoolExhausted' })
