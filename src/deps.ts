import type { Config } from './config'
import type { Database } from './db'
import type { Clock } from './lib/clock'
import type { Sealer } from './lib/crypto'
import type { Logger } from './lib/log'
import type { Registry } from './lib/metrics'
import type { OutboundClient } from './lib/outbound/client'
import type { RateLimiter } from './lib/ratelimit'
import type { Trace, Tracer } from './lib/trace/tracer'
import type { AppMetrics } from './modules/apps/metrics'
import type { AppTokens } from './modules/apps/oauth'
import type { CallbackWorker } from './modules/callbacks/worker'
import type { EventBus } from './modules/events/bus'
import type { RouteDirectory } from './modules/forward/directory'
import type { ForwardingEngine } from './modules/forward/engine'
import type { LaneCache } from './modules/groups/cache'
import type { LaneGroup } from './modules/groups/lane'
import type { Deliveries } from './modules/jobs/deliver'
import type { OutcomeOutbox } from './modules/jobs/outcomes'
import type { LanePool } from './modules/pools/lane'
import type { PoolRuntime } from './modules/pools/runtime'
import type { Heartbeats } from './modules/presence/heartbeats'
import type { PresencePolicy } from './modules/presence/rules'
import type { RelayMeter } from './modules/relays/relay'
import type { ActivityTracker } from './modules/tokens/activity'
import type { Actor } from './modules/tokens/actor'
import type { CredentialResolver } from './modules/tokens/resolve'
import type { LiveHub } from './modules/ws/hub'

/** Everything a service verb may reach, composed once at start-up (see server.ts). */
export interface Deps {
  config: Config
  db: Database
  clock: Clock
  log: Logger
  sealer: Sealer
  metrics: Registry
  /** Trace context for every unit of work; spans exported when OTEL_* configures it. */
  tracer: Tracer
  credentials: CredentialResolver
  activity: ActivityTracker
  heartbeats: Heartbeats
  presencePolicy: PresencePolicy
  bus: EventBus
  /** The only way out: SSRF-guarded, pinned to the checked address, no redirects. */
  outbound: OutboundClient
  /** This process among the instances sharing a database (logs, bus notes, the scheduler's lead). */
  instanceId: string
  /** The open WebSockets of this instance and the reader that feeds them. */
  live: LiveHub
  /**
   * Per credential on the proxy lanes; per client IP for unauthenticated requests and failed
   * credentials; the relays per client IP and per agent, on limits of their own.
   */
  limits: {
    proxy: RateLimiter
    ip: RateLimiter
    relayIp: RateLimiter
    relayAgent: RateLimiter
    /** Per webhook trigger (verified calls), and per client IP on `POST /hooks/{id}`. */
    trigger: RateLimiter
    hookIp: RateLimiter
  }
  /** Where this instance listens (set once it does): relay cards name it when no public URL is set. */
  listenUrl: string | null
  /** The proxy's read model of agents and connections (credentials unsealed), kept fresh by bus notes. */
  routes: RouteDirectory
  /** The one way to call an agent: every lane, the relays and the async delivery send through it. */
  forward: ForwardingEngine
  /** Broadcast groups and pools as their lanes see them. */
  groupCache: LaneCache<LaneGroup | null>
  poolCache: LaneCache<LanePool | null>
  /** Round-robin turns and passive health of this instance's pools. */
  poolRuntime: PoolRuntime
  /** Async first deliveries in flight (a graceful stop waits for them). */
  deliveries: Deliveries
  /** Sends job callbacks from the outbox. */
  callbacks: CallbackWorker
  /** App connections' OAuth2 access tokens (this instance's memory), shared by concurrent calls. */
  appTokens: AppTokens
  /** App connection calls by connection and status, and their latency. */
  appMetrics: AppMetrics
  /** Delivery outcomes the database could not take yet: retried, spooled at stop, replayed at start. */
  outcomes: OutcomeOutbox
  /** A metric and a log line per relayed call. */
  relayMeter: RelayMeter
}

/** What every service verb receives beside its input; `trace` is the request's (lanes pass it to the engine). */
export type Ctx<A extends Actor = Actor> = { deps: Deps; actor: A; requestId: string; trace: Trace }
