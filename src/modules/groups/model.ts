import { z } from 'zod'
import { AgentRef, NextCursor, Timestamp, Uuid } from '../../http/schemas'

/** A broadcast fans out to every member at once; this bounds one call's fan-out. */
export const MAX_GROUP_MEMBERS = 100
/** Allowed callers per group or pool. */
export const MAX_ALLOWED_CALLERS = 500

export const ObjectName = z.string().trim().min(1).max(100)
export const Description = z.string().trim().max(1000)
export const AllowedCallerIds = z
  .array(AgentRef)
  .max(MAX_ALLOWED_CALLERS)
  .nullable()
  .describe(
    'Agents (UUID or permanent id) that may call; null or absent: any agent of the workspace; []: no agent',
  )

export const CreateGroupBody = z
  .strictObject({
    name: ObjectName,
    description: Description.optional(),
    allowedCallerIds: AllowedCallerIds.optional(),
    memberIds: z
      .array(AgentRef)
      .max(MAX_GROUP_MEMBERS)
      .optional()
      .describe('Member agents of your workspace, by UUID or permanent id'),
  })
  .meta({
    id: 'CreateBroadcastGroupRequest',
    examples: [
      {
        name: 'reviewers',
        description: 'Everyone who reviews drafts',
        memberIds: ['agt-k3v9x2mq', 'agt-p7d2w8zn'],
      },
    ],
  })
export type CreateGroupInput = z.infer<typeof CreateGroupBody>

export const UpdateGroupBody = z
  .strictObject({
    name: ObjectName.optional(),
    description: Description.nullable().optional(),
    allowedCallerIds: AllowedCallerIds.optional(),
  })
  .meta({ id: 'UpdateBroadcastGroupRequest', examples: [{ allowedCallerIds: ['agt-k3v9x2mq'] }] })
export type UpdateGroupInput = z.infer<typeof UpdateGroupBody>

export const AddMembersBody = z
  .strictObject({
    agentIds: z
      .array(AgentRef)
      .min(1)
      .max(MAX_GROUP_MEMBERS)
      .describe('Agents to add (UUID or permanent id); ones already in the group are left as they are'),
  })
  .meta({ id: 'AddBroadcastGroupMembersRequest', examples: [{ agentIds: ['agt-m4q8r1ts'] }] })

/** `{memberId}`: the membership id, or the member agent's UUID or permanent id. */
export const MemberParams = z.object({ id: Uuid, memberId: AgentRef })

export const MemberAgent = {
  id: z.uuid().describe('The membership id'),
  agentId: z.uuid(),
  permanentId: z.string(),
  name: z.string(),
  status: z.enum(['active', 'inactive']),
  archived: z.boolean(),
  presence: z.enum(['online', 'idle', 'offline']),
  addedAt: Timestamp,
}
export const GroupMember = z.object(MemberAgent).meta({ id: 'BroadcastGroupMember' })

const GroupFields = {
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  allowedCallerIds: z.array(z.uuid()).nullable().describe('null: any agent of the workspace may call'),
  memberCount: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}
export const GroupSummary = z.object(GroupFields).meta({ id: 'BroadcastGroupSummary' })
export const Group = z
  .object({ ...GroupFields, members: z.array(GroupMember) })
  .meta({ id: 'BroadcastGroup' })
export const GroupList = z
  .object({ groups: z.array(GroupSummary), nextCursor: NextCursor })
  .meta({ id: 'BroadcastGroupList' })
export const Deleted = z.object({ id: z.uuid(), deleted: z.literal(true) }).meta({ id: 'Deleted' })
export const MemberRemoved = z
  .object({ id: z.uuid(), agentId: z.uuid(), removed: z.literal(true) })
  .meta({ id: 'RemovedMember' })

/** One member's outcome on the broadcast lane. */
export const BroadcastResult = z
  .object({
    agentId: z.uuid(),
    permanentId: z.string(),
    status: z
      .enum(['fulfilled', 'rejected'])
      .describe(
        'fulfilled: the member answered over HTTP (any status, 4xx and 5xx included); rejected: no answer',
      ),
    httpStatus: z.number().int().nullable(),
    body: z.unknown().describe('The answer: parsed JSON when it is JSON, else text; null when empty'),
    truncated: z.boolean().describe('The answer was longer than the per-member cap and was cut'),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    handledBy: z
      .string()
      .nullable()
      .describe(
        'Permanent id of the agent that took the call (the member, or its fallback); null if not sent',
      ),
  })
  .meta({ id: 'BroadcastResult' })
export const BroadcastAnswer = z
  .object({ groupId: z.uuid(), results: z.array(BroadcastResult) })
  .meta({ id: 'BroadcastAnswer' })
export type BroadcastResultView = z.infer<typeof BroadcastResult>
