import { and, eq, gt, isNull, or } from 'drizzle-orm'
import type { Orm } from '../../db'
import { isUniqueViolation } from '../../db/errors'
import type { Deps } from '../../deps'
import { AppError, takenAgentIdentity } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { estimatedBits, MIN_TOKEN_BITS } from './entropy'
import { displayPrefix, generateSecret, hashSecret, isValidPregenerated } from './format'

/**
 * Stores a new token for an agent and returns the plaintext, which exists only in this
 * answer. A pre-generated token is stored the same way (hash + display prefix).
 */
export async function issueAgentToken(
  deps: Pick<Deps, 'db' | 'clock'>,
  tx: Orm,
  input: {
    agentId: string
    workspaceId: string
    ttlSeconds?: number | null
    pregenerated?: string | undefined
  },
) {
  if (input.pregenerated !== undefined && !isValidPregenerated(input.pregenerated)) {
    throw new AppError(
      'invalid_request',
      'A pre-generated token must be 32–256 printable characters and may not begin with tk_ or wk_',
    )
  }
  if (input.pregenerated !== undefined && estimatedBits(input.pregenerated) < MIN_TOKEN_BITS) {
    throw new AppError(
      'invalid_request',
      `A pre-generated token must carry at least ${MIN_TOKEN_BITS} bits of randomness; repeats, runs and ` +
        'patterns count for little (use e.g. 24 random bytes as hex or base64url)',
    )
  }
  const token = input.pregenerated ?? generateSecret('agent')
  const now = deps.clock.now()
  const row = {
    id: newId(),
    agentId: input.agentId,
    workspaceId: input.workspaceId,
    prefix: displayPrefix(token),
    hash: hashSecret(token),
    expiresAt: input.ttlSeconds ? new Date(now.getTime() + input.ttlSeconds * 1000) : null,
    revokedAt: null,
    createdAt: now,
  }
  try {
    await tx.insert(deps.db.t.agentTokens).values(row)
  } catch (e) {
    if (isUniqueViolation(e)) throw takenAgentIdentity()
    throw e
  }
  return { token, row }
}

/** The agent's tokens that still work now. */
export async function liveTokens(deps: Pick<Deps, 'db' | 'clock'>, tx: Orm, agentId: string) {
  const { agentTokens: t } = deps.db.t
  return tx
    .select()
    .from(t)
    .where(
      and(
        eq(t.agentId, agentId),
        isNull(t.revokedAt),
        or(isNull(t.expiresAt), gt(t.expiresAt, deps.clock.now())),
      ),
    )
}
