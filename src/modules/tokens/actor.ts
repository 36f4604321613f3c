import type { ActorType } from '../../db/schema/types'

/** Who is calling: resolved from the presented credential on every request. */
export type AdminActor = { kind: 'admin' }
export type WorkspaceActor = { kind: 'workspace'; workspaceId: string; keyId: string; keyPrefix: string }
export type AgentActor = {
  kind: 'agent'
  workspaceId: string
  agentId: string
  permanentId: string
  tokenId: string
  tokenPrefix: string
}
export type SystemActor = { kind: 'system'; workspaceId: string }
export type Actor = AdminActor | WorkspaceActor | AgentActor
export type ActorKind = Actor['kind']

/** The audit trail's view of an actor: type and a non-secret id. */
export function auditActor(actor: Actor | SystemActor): { actorType: ActorType; actorId: string | null } {
  switch (actor.kind) {
    case 'admin':
      return { actorType: 'admin', actorId: null }
    case 'workspace':
      return { actorType: 'workspace_key', actorId: actor.keyId }
    case 'agent':
      return { actorType: 'agent', actorId: actor.agentId }
    case 'system':
      return { actorType: 'system', actorId: null }
  }
}
