import { inArray } from 'drizzle-orm'
import { lockInIdOrder } from '../../db/touch'
import type { Deps } from '../../deps'
import { applySignal, settleRows, signalColumns } from './service'

/**
 * An agent's open WebSocket as a presence signal. The instance holding the socket sets
 * `socketSeenAt` when it opens, refreshes it while it stays open (the rule counts it for
 * `socketFreshMs`, so a crashed instance's sockets lapse on their own), and clears it when
 * its last socket of that agent closes.
 */
export async function socketOpened(deps: Deps, agentId: string): Promise<void> {
  await deps.db.tx((tx) => applySignal(deps, tx, agentId, { socketSeenAt: deps.clock.now() }))
}

export async function socketClosed(deps: Deps, agentId: string): Promise<void> {
  await deps.db.tx((tx) => applySignal(deps, tx, agentId, { socketSeenAt: null }))
}

/**
 * Refreshes the signal of every agent with an open socket here. One UPDATE per 500 agents
 * records it, and the agents whose presence that changes (their signal had lapsed) are
 * settled in the same transaction, under the same row locks (`settleRows`: the one event each).
 */
export async function refreshSockets(deps: Deps, agentIds: string[]): Promise<void> {
  const { agents: a } = deps.db.t
  // In id order, locked first, as writeTimes and the presence sweep lock theirs: a multi-row
  // UPDATE locks rows in the order its plan meets them (heap order for a bitmap scan), and
  // two writers locking overlapping rows in different orders can deadlock on Postgres.
  const sorted = [...agentIds].sort()
  for (let i = 0; i < sorted.length; i += 500) {
    const ids = sorted.slice(i, i + 500)
    await deps.db.tx(async (tx) => {
      await lockInIdOrder(deps.db, tx, a, ids)
      const rows = await tx
        .update(a)
        .set({ socketSeenAt: deps.clock.now() })
        .where(inArray(a.id, ids))
        .returning({
          id: a.id,
          workspaceId: a.workspaceId,
          permanentId: a.permanentId,
          presence: a.presence,
          ...signalColumns(deps),
        })
      await settleRows(deps, tx, rows)
    })
  }
}
