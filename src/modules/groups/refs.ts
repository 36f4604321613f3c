import { and, eq, inArray, or } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Deps } from '../../deps'
import { AppError } from '../../lib/errors'
import { isPermanentId } from '../../lib/ids'

export type AgentBrief = { id: string; permanentId: string }

/**
 * Agents of the workspace named by UUID or permanent id, in the order given, each once.
 * One query for the whole list; a ref that names no agent of the workspace — including an
 * agent of another workspace — is a 404 that lists the refs it could not find.
 */
export async function resolveAgents(
  deps: Pick<Deps, 'db'>,
  tx: Orm,
  workspaceId: string,
  refs: readonly string[],
): Promise<AgentBrief[]> {
  if (refs.length === 0) return []
  const { agents: a } = deps.db.t
  const uuids = refs.filter((r) => !isPermanentId(r)).map((r) => r.toLowerCase())
  const permanentIds = refs.filter(isPermanentId)
  const rows = await tx
    .select({ id: a.id, permanentId: a.permanentId })
    .from(a)
    .where(
      and(
        eq(a.workspaceId, workspaceId),
        or(
          uuids.length > 0 ? inArray(a.id, uuids) : undefined,
          permanentIds.length > 0 ? inArray(a.permanentId, permanentIds) : undefined,
        ),
      ),
    )
  const byRef = new Map<string, AgentBrief>()
  for (const r of rows) {
    byRef.set(r.id, r)
    byRef.set(r.permanentId, r)
  }
  const key = (ref: string) => (isPermanentId(ref) ? ref : ref.toLowerCase())
  const missing = refs.filter((r) => !byRef.has(key(r)))
  if (missing.length > 0) throw new AppError('not_found', 'Agent not found', { missing })
  const seen = new Set<string>()
  const out: AgentBrief[] = []
  for (const ref of refs) {
    const agent = byRef.get(key(ref))!
    if (seen.has(agent.id)) continue
    seen.add(agent.id)
    out.push(agent)
  }
  return out
}

/**
 * The allowed-caller list as stored (agent UUIDs) minus agents deleted since: a deleted
 * agent's id can never call again, so showing it would only confuse.
 */
export async function liveCallerIds(
  deps: Pick<Deps, 'db'>,
  workspaceId: string,
  lists: ReadonlyArray<readonly string[] | null>,
): Promise<Set<string>> {
  const ids = [...new Set(lists.flatMap((l) => l ?? []))]
  if (ids.length === 0) return new Set()
  const { agents: a } = deps.db.t
  const rows = await deps.db.orm
    .select({ id: a.id })
    .from(a)
    .where(and(eq(a.workspaceId, workspaceId), inArray(a.id, ids)))
  return new Set(rows.map((r) => r.id))
}

/**
 * May this agent use a group or pool? Only agents of its workspace, and of those only the
 * allowed callers when a list is set (`null`: any agent of the workspace; `[]`: none).
 */
export function mayCall(
  object: { workspaceId: string; allowedCallerIds: readonly string[] | null },
  caller: { workspaceId: string; agentId: string },
): boolean {
  if (object.workspaceId !== caller.workspaceId) return false
  return object.allowedCallerIds === null || object.allowedCallerIds.includes(caller.agentId)
}
