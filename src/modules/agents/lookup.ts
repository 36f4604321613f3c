import { and, eq } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Deps } from '../../deps'
import { forbidden, notFound } from '../../lib/errors'
import { isPermanentId } from '../../lib/ids'

export type AgentRow = Row<'agents'>

/** An agent of the workspace by UUID or permanent id; another workspace's agent is "not found". */
export async function findAgent(
  deps: Pick<Deps, 'db'>,
  workspaceId: string,
  ref: string,
  tx: Orm = deps.db.orm,
): Promise<AgentRow> {
  const { agents } = deps.db.t
  const [row] = await tx
    .select()
    .from(agents)
    .where(
      and(
        eq(agents.workspaceId, workspaceId),
        isPermanentId(ref) ? eq(agents.permanentId, ref) : eq(agents.id, ref.toLowerCase()),
      ),
    )
    .limit(1)
  if (!row) throw notFound('Agent')
  return row
}

/** True when `ref` (UUID or permanent id) names the given agent. */
export const refersTo = (ref: string, agent: { agentId: string; permanentId: string }) =>
  ref.toLowerCase() === agent.agentId || ref === agent.permanentId

/**
 * An agent token acts only as its own agent. Checked before any lookup, so the answer
 * never depends on whether the other agent exists.
 */
export function assertSelf(actor: { kind: string; agentId?: string; permanentId?: string }, ref: string) {
  if (actor.kind !== 'agent') return
  if (!refersTo(ref, actor as { agentId: string; permanentId: string })) {
    throw forbidden('An agent token may only act as its own agent')
  }
}
