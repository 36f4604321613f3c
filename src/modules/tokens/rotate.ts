import { eq, inArray } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { assertSelf, findAgent } from '../agents/lookup'
import { recordAudit } from '../audit/record'
import type { AgentActor, WorkspaceActor } from './actor'
import { issueAgentToken, liveTokens } from './issue'

/**
 * Issues a new token and ends the old ones: at once, or after `graceSeconds` so a fleet
 * can roll over. Callable with the workspace key or with the agent's own current token.
 */
export async function rotateToken({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: { agentId: string; ttlSeconds?: number | undefined; graceSeconds: number }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const { agentTokens: t } = deps.db.t
  const now = deps.clock.now()
  const result = await deps.db.tx(async (tx) => {
    const agent = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    const old = await liveTokens(deps, tx, agent.id)
    const graceEnd = input.graceSeconds > 0 ? new Date(now.getTime() + input.graceSeconds * 1000) : null
    if (old.length > 0) {
      const ids = old.map((o) => o.id)
      if (graceEnd) {
        for (const o of old) {
          const until = o.expiresAt && o.expiresAt < graceEnd ? o.expiresAt : graceEnd
          await tx.update(t).set({ expiresAt: until }).where(eq(t.id, o.id))
        }
      } else {
        await tx.update(t).set({ revokedAt: now }).where(inArray(t.id, ids))
      }
    }
    const { token, row } = await issueAgentToken(deps, tx, {
      agentId: agent.id,
      workspaceId: agent.workspaceId,
      ttlSeconds: input.ttlSeconds ?? agent.tokenTtlSeconds,
    })
    await recordAudit(deps, tx, {
      workspaceId: agent.workspaceId,
      agentId: agent.id,
      action: 'token_rotated',
      actor,
      metadata: {
        oldTokenPrefixes: old.map((o) => o.prefix),
        newTokenPrefix: row.prefix,
        graceSeconds: input.graceSeconds,
        expiresAt: row.expiresAt?.toISOString() ?? null,
      },
    })
    return { agentId: agent.id, token, row, previousTokenValidUntil: old.length > 0 ? graceEnd : null }
  })
  deps.bus.publish('credential.ended', { agentId: result.agentId })
  return {
    token: result.token,
    tokenPrefix: result.row.prefix,
    expiresAt: result.row.expiresAt?.toISOString() ?? null,
    previousTokenValidUntil: result.previousTokenValidUntil?.toISOString() ?? null,
  }
}
