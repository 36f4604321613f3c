import type { ProtocolName } from '../../lib/protocols'

export type { ProtocolName }

/** JSON shapes stored in columns, shared by both dialects. */
export type ProtocolConfig = { enabled: boolean; url?: string | null }
export type Protocols = Partial<Record<ProtocolName, ProtocolConfig>>
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue }
export type JsonObject = { [k: string]: JsonValue }

export type AgentStatus = 'active' | 'inactive'
export type Presence = 'online' | 'idle' | 'offline'
export type ActorType = 'admin' | 'workspace_key' | 'agent' | 'system'
export type ConnectionType = 'private' | 'board'
export type ConnectionStatus = 'active' | 'pending' | 'declined'
export type JobStatus = 'running' | 'completed' | 'failed'
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'gone'
export type PoolStrategy = 'round_robin' | 'failover' | 'random'
export type MessageType = 'request' | 'response' | 'event' | 'broadcast'
export type CommandAction = 'restart' | 'stop' | 'expose' | 'reach' | 'status'
export type CommandStatus = 'queued' | 'delivered' | 'done' | 'failed'
/** Why an agent's webhook stopped: it failed for too long, answered 410 Gone, or its owner turned it off. */
export type WebhookDisabledReason = 'failing' | 'gone' | 'manual'
export type TriggerVerifyType = 'none' | 'token' | 'hmac_sha256' | 'standard_webhooks'
export type TriggerTransform = 'raw' | 'json_envelope'
export type TriggerCallOutcome = 'accepted' | 'duplicate'

/** How an app connection authenticates to its app; the secret of each is sealed apart. */
export type AppAuthType = 'bearer' | 'header' | 'basic' | 'query' | 'oauth2_client_credentials'
export type OAuthClientAuthMethod = 'client_secret_basic' | 'client_secret_post'
/** An app connection's auth without its secret (what is stored in the clear and shown). */
export type AppAuthConfig =
  | { type: 'bearer' }
  | { type: 'header'; name: string }
  | { type: 'basic'; username: string }
  | { type: 'query'; name: string }
  | {
      type: 'oauth2_client_credentials'
      tokenUrl: string
      clientId: string
      scopes: string[] | null
      audience: string | null
      clientAuthMethod: OAuthClientAuthMethod
    }
