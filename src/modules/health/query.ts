import { and, desc, eq, gte, lt, or, sql } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { decodeCursor, encodeCursor } from '../../lib/cursor'
import { findAgent } from '../agents/lookup'
import type { WorkspaceActor } from '../tokens/actor'

const DAY_MS = 86_400_000

type CheckCursor = { at: number; id: string }
const isCheckCursor = (v: unknown): v is CheckCursor => {
  const o = v as Partial<CheckCursor>
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.at === 'number' &&
    Number.isFinite(o.at) &&
    typeof o.id === 'string' &&
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(o.id)
  )
}

/** An agent's recent health checks, newest first, and its uptime over the last 24 hours. */
export async function agentHealth({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { agentId: string; limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { healthChecks: h } = deps.db.t
  const agent = await findAgent(deps, actor.workspaceId, input.agentId)
  const after = decodeCursor(input.cursor, isCheckCursor)
  const rows = await deps.db.orm
    .select()
    .from(h)
    .where(
      and(
        eq(h.agentId, agent.id),
        after
          ? or(lt(h.at, new Date(after.at)), and(eq(h.at, new Date(after.at)), lt(h.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(h.at), desc(h.id))
    .limit(input.limit + 1)
  const more = rows.length > input.limit
  const page = more ? rows.slice(0, input.limit) : rows
  const last = page[page.length - 1]
  const [tally] = await deps.db.orm
    .select({
      checks: sql<number>`count(*)`.mapWith(Number),
      passed: sql<number>`coalesce(sum(case when ${h.ok} then 1 else 0 end), 0)`.mapWith(Number),
    })
    .from(h)
    .where(and(eq(h.agentId, agent.id), gte(h.at, new Date(deps.clock.now().getTime() - DAY_MS))))
  const checks = tally?.checks ?? 0
  const passed = tally?.passed ?? 0
  return {
    agentId: agent.id,
    permanentId: agent.permanentId,
    endpointUrl: agent.endpointUrl,
    presence: agent.presence,
    lastHealthOkAt: agent.lastHealthOkAt?.toISOString() ?? null,
    uptime: { windowHours: 24 as const, checks, passed, ratio: checks > 0 ? passed / checks : null },
    checks: page.map((c) => ({
      at: c.at.toISOString(),
      ok: c.ok,
      httpStatus: c.httpStatus,
      latencyMs: c.latencyMs,
      error: c.error,
    })),
    nextCursor: more && last ? encodeCursor({ at: last.at.getTime(), id: last.id }) : null,
  }
}
