import { and, asc, eq, inArray } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { queuedEventData } from './view'

/**
 * What the live stream needs from commands: the ones still waiting for an agent that has
 * just connected (as `command.queued` event data), and marking them delivered once sent.
 */
export async function waitingCommands(
  deps: Pick<Deps, 'db'>,
  workspaceId: string,
  agentId: string,
  permanentId: string,
  limit = 500,
): Promise<{ commandId: string; at: string; data: ReturnType<typeof queuedEventData> }[]> {
  const { commands: c } = deps.db.t
  const rows = await deps.db.orm
    .select()
    .from(c)
    .where(and(eq(c.workspaceId, workspaceId), eq(c.agentId, agentId), eq(c.status, 'queued')))
    .orderBy(asc(c.id))
    .limit(limit)
  return rows.map((r) => ({
    commandId: r.id,
    at: r.createdAt.toISOString(),
    data: queuedEventData(r, permanentId),
  }))
}

export async function markCommandsDelivered(deps: Pick<Deps, 'db' | 'clock'>, ids: string[]): Promise<void> {
  if (ids.length === 0) return
  const { commands: c } = deps.db.t
  const now = deps.clock.now()
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500)
    await deps.db.write(() =>
      deps.db.orm
        .update(c)
        .set({ status: 'delivered', deliveredAt: now })
        .where(and(inArray(c.id, chunk), eq(c.status, 'queued'))),
    )
  }
}
