import { z } from 'zod'
import { AgentRef, NextCursor, NullableTimestamp, Timestamp } from '../../http/schemas'

export const PermanentId = z.string().regex(/^agt-[a-z0-9]{8}$/, 'must be a permanent id (agt-xxxxxxxx)')

export const CreateConnectionBody = z
  .strictObject({
    agentId: AgentRef.describe('Your agent: the one that opens the connection'),
    targetAgentId: AgentRef.optional().describe('The other agent, by UUID or permanent id'),
    targetPermanentId: PermanentId.optional().describe(
      'The other agent by permanent id (board: any workspace)',
    ),
    type: z.enum(['private', 'board']),
  })
  .refine((b) => (b.targetAgentId === undefined) !== (b.targetPermanentId === undefined), {
    message: 'give exactly one of targetAgentId and targetPermanentId',
  })
  .meta({
    id: 'CreateConnectionRequest',
    examples: [{ agentId: 'agt-k3v9x2mq', targetPermanentId: 'agt-p7d2w8zn', type: 'board' }],
  })
export type CreateConnectionInput = z.infer<typeof CreateConnectionBody>

export const Connection = z
  .object({
    id: z.uuid(),
    type: z.enum(['private', 'board']),
    status: z.enum(['active', 'pending', 'declined']),
    direction: z.enum(['outgoing', 'incoming', 'internal']).describe("Relative to the caller's workspace"),
    agentId: z.uuid(),
    agentPermanentId: z.string(),
    targetAgentId: z.uuid(),
    targetPermanentId: z.string(),
    workspaceId: z.uuid(),
    targetWorkspaceId: z.uuid(),
    lastHeartbeatAt: NullableTimestamp,
    acceptedAt: NullableTimestamp,
    createdAt: Timestamp,
  })
  .meta({ id: 'Connection' })

export const ConnectionList = z
  .object({ connections: z.array(Connection), nextCursor: NextCursor })
  .meta({ id: 'ConnectionList' })
export const ListConnectionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
  status: z.enum(['active', 'pending', 'declined']).optional(),
  type: z.enum(['private', 'board']).optional(),
  agentId: AgentRef.optional().describe('Only connections this agent takes part in'),
})
export const ConnectionHeartbeat = z
  .object({ id: z.uuid(), status: z.string(), lastHeartbeatAt: Timestamp })
  .meta({ id: 'ConnectionHeartbeat' })
export const Revoked = z.object({ id: z.uuid(), revoked: z.literal(true) }).meta({ id: 'RevokedConnection' })
