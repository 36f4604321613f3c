import { eq } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { signingSecrets } from '../callbacks/secret'

/** After the agent's own secret is replaced, the previous one keeps signing beside it this long. */
export const AGENT_SECRET_OVERLAP_MS = 24 * 3600_000

/** Both secret columns of an agent's webhook are sealed under one context, bound to the agent. */
export const agentSecretContext = (agentId: string) => `agent-webhook-secret:${agentId}`

/**
 * The secrets that sign an agent's webhook now: its own (and its previous one during the
 * overlap) when it set one, else the workspace's (with the workspace's rotation overlap).
 */
export async function agentSigningSecrets(deps: Deps, agentId: string, workspaceId: string) {
  const w = deps.db.t.agentWebhooks
  const [row] = await deps.db.orm
    .select({ secret: w.secret, prev: w.secretPrev, prevUntil: w.secretPrevUntil })
    .from(w)
    .where(eq(w.agentId, agentId))
    .limit(1)
  if (!row?.secret) return signingSecrets(deps, workspaceId)
  const context = agentSecretContext(agentId)
  const own = [deps.sealer.open(row.secret, context)]
  if (row.prev && row.prevUntil && row.prevUntil.getTime() > deps.clock.now().getTime())
    own.push(deps.sealer.open(row.prev, context))
  return own
}
