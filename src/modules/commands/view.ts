import type { Row } from '../../db/schema'
import type { JsonObject } from '../../db/schema/types'

export type CommandRow = Row<'commands'>

const iso = (d: Date | null) => d?.toISOString() ?? null

export const commandView = (c: CommandRow) => ({
  id: c.id,
  agentId: c.agentId,
  action: c.action,
  params: c.params,
  status: c.status,
  result: c.result ?? null,
  createdAt: c.createdAt.toISOString(),
  deliveredAt: iso(c.deliveredAt),
  ackedAt: iso(c.ackedAt),
})

/** The data of a `command.queued` event: also what a replay on connect carries. */
export const queuedEventData = (c: CommandRow, permanentId: string): JsonObject => ({
  commandId: c.id,
  agentId: c.agentId,
  permanentId,
  action: c.action,
  params: c.params,
  status: 'queued',
  createdAt: c.createdAt.toISOString(),
})
