import type { Orm } from '../../db'
import type { JsonObject } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { newId } from '../../lib/ids'
import { type Actor, auditActor, type SystemActor } from '../tokens/actor'

export type AuditAction =
  | 'workspace_created'
  | 'workspace_key_created'
  | 'workspace_key_revoked'
  | 'agent_registered'
  | 'agent_provisioned'
  | 'agent_updated'
  | 'agent_deactivated'
  | 'agent_reactivated'
  | 'agent_archived'
  | 'agent_unarchived'
  | 'agent_deleted'
  | 'token_issued'
  | 'token_rotated'
  | 'endpoint_credential_set'
  | 'endpoint_credential_cleared'
  | 'capabilities_replaced'
  | 'capabilities_merged'
  | 'webhook_secret_rotated'
  | 'agent_webhook_secret_set'
  | 'agent_webhook_secret_cleared'
  | 'agent_webhook_enabled'
  | 'agent_webhook_disabled'
  | 'agent_webhook_retried'
  | 'trigger_created'
  | 'trigger_updated'
  | 'trigger_deleted'
  | 'app_connection_created'
  | 'app_connection_updated'
  | 'app_connection_secret_changed'
  | 'app_connection_deleted'
  | 'app_connection_executed'
  | 'console_signed_in'
  | 'console_signed_out'

export type AuditEntry = {
  workspaceId: string
  agentId?: string | null
  action: AuditAction
  actor: Actor | SystemActor
  /** Never a secret: prefixes, ids and names only. */
  metadata?: JsonObject
}

/**
 * Appends an audit row. Call it with the transaction that makes the change, so the
 * record and the change commit or roll back together.
 */
export async function recordAudit(deps: Pick<Deps, 'db' | 'clock'>, tx: Orm, entry: AuditEntry) {
  const { actorType, actorId } = auditActor(entry.actor)
  await tx.insert(deps.db.t.auditLogs).values({
    id: newId(),
    workspaceId: entry.workspaceId,
    agentId: entry.agentId ?? null,
    action: entry.action,
    actorType,
    actorId,
    metadata: entry.metadata ?? {},
    createdAt: deps.clock.now(),
  })
}
