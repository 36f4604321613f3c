import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Config } from './config'
import { type Database, openDatabase } from './db'
import type { Deps } from './deps'
import { type App, createApp } from './http/app'
import { type Clock, systemClock } from './lib/clock'
import { decodeKeyOrNull, Sealer } from './lib/crypto'
import { createLogger, type Logger } from './lib/log'
import { Registry } from './lib/metrics'
import { createOutboundClient } from './lib/outbound/client'
import { RateLimiter } from './lib/ratelimit'
import { type Leadership, PgLeader, soleLeader } from './lib/schedule/leader'
import { type ScheduledJob, Scheduler } from './lib/schedule/scheduler'
import { CallbackWorker } from './modules/callbacks/worker'
import { type EventBus, LocalBus } from './modules/events/bus'
import { PgBus } from './modules/events/pg-bus'
import { sweepEventRetention } from './modules/events/retention'
import { RouteDirectory } from './modules/forward/directory'
import { ForwardingEngine } from './modules/forward/engine'
import { LaneCache } from './modules/groups/cache'
import { runHealthSweep } from './modules/health/sweep'
import { sweepJobDeadlines } from './modules/jobs/deadline'
import { Deliveries } from './modules/jobs/deliver'
import { purgeExpiredMessages } from './modules/messages/purge'
import { PoolRuntime } from './modules/pools/runtime'
import { Heartbeats } from './modules/presence/heartbeats'
import { cronIntervalMs } from './modules/presence/rules'
import { sweepPresence } from './modules/presence/service'
import { registerServiceMetrics } from './modules/service/service'
import { ActivityTracker } from './modules/tokens/activity'
import { CredentialResolver } from './modules/tokens/resolve'
import { bootstrapDefaultWorkspace } from './modules/workspaces/service'
import { LiveHub } from './modules/ws/hub'

export type Overrides = { clock?: Clock; log?: Logger; db?: Database }

/** Composes every dependency once. The database is opened and migrated here. */
export async function buildDeps(config: Config, overrides: Overrides = {}): Promise<Deps> {
  const log = overrides.log ?? createLogger(config.logLevel)
  const clock = overrides.clock ?? systemClock
  const db = overrides.db ?? (await openDatabase(config.database))
  await db.migrate()
  const instanceId = crypto.randomUUID()
  const bus = await openBus(config, db, log, instanceId)
  const sealer = new Sealer(masterKey(config, log), config.previousMasterKeys)
  const outbound = createOutboundClient({ allowedNetworks: config.allowedNetworks })
  const routes = new RouteDirectory({ db, sealer, bus, log })
  const deps: Deps = {
    config,
    db,
    clock,
    log,
    sealer,
    metrics: new Registry(),
    credentials: new CredentialResolver(db, clock, config, bus),
    activity: new ActivityTracker(db, clock, log),
    heartbeats: new Heartbeats(db, log, bus),
    presencePolicy: {
      onlineWindowMs: config.onlineWindowMs,
      healthFreshMs: 2 * cronIntervalMs(config.healthCron),
      // An open socket is refreshed at every keepalive; three missed refreshes and it lapses.
      socketFreshMs: 3 * config.live.pingMs,
    },
    bus,
    outbound,
    instanceId,
    // The hub and the callback worker need the finished deps; they are set below.
    live: undefined as unknown as LiveHub,
    callbacks: undefined as unknown as CallbackWorker,
    limits: {
      proxy: new RateLimiter(config.rateLimits.proxy.perSecond, config.rateLimits.proxy.burst),
      ip: new RateLimiter(config.rateLimits.ip.perSecond, config.rateLimits.ip.burst),
    },
    routes,
    forward: new ForwardingEngine({ outbound, routes }),
    groupCache: new LaneCache(bus, (note) => note.groupId),
    poolCache: new LaneCache(bus, (note) => note.poolId),
    poolRuntime: new PoolRuntime(config),
    deliveries: new Deliveries(),
  }
  deps.live = new LiveHub(deps)
  // An attempt always ends well within its lease, so a live instance's send is never taken over.
  const leaseMs = config.outboxLeaseMs
  deps.callbacks = new CallbackWorker(deps, { leaseMs, timeoutMs: Math.min(15_000, Math.floor(leaseMs / 2)) })
  registerServiceMetrics(deps)
  return deps
}

/**
 * One process: the in-process bus. Postgres: LISTEN/NOTIFY between instances, on its own
 * connections, which live and die with the database.
 */
async function openBus(config: Config, db: Database, log: Logger, instanceId: string): Promise<EventBus> {
  if (config.database.kind !== 'pg' || db.dialect !== 'pg') return new LocalBus()
  const bus = new PgBus(config.database.url, log, instanceId)
  await bus.start()
  const close = db.close.bind(db)
  db.close = async () => {
    await bus.close()
    await close()
  }
  return bus
}

/**
 * The master key: from SWITCHBOARD_MASTER_KEY, else (SQLite only; config refuses Postgres
 * without it) a key file beside the database, created 0600 on first start.
 */
function masterKey(config: Config, log: Logger): Uint8Array {
  if (config.masterKey) return config.masterKey
  if (config.database.kind !== 'sqlite') throw new Error('SWITCHBOARD_MASTER_KEY is required with Postgres')
  if (config.database.path === ':memory:') return crypto.getRandomValues(new Uint8Array(32))
  const file = join(dirname(config.database.path), 'master.key')
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true })
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(file, 0o600)
    log.info('generated a master key file', { path: file })
  }
  const key = decodeKeyOrNull(readFileSync(file, 'utf8').trim())
  if (!key) throw new Error(`${file} does not hold a 32-byte key (64 hex characters)`)
  return key
}

/**
 * Every scheduled job. The hook for other modules: add a module's jobs here. They run on
 * the leader only (one instance at a time on Postgres) unless a job says `everyInstance`.
 */
export function scheduledJobs(deps: Deps): ScheduledJob[] {
  const { config } = deps
  return [
    { name: 'presence-sweep', pattern: config.presenceSweepCron, run: () => sweepPresence(deps) },
    { name: 'health-sweep', pattern: config.healthCron, run: (signal) => runHealthSweep(deps, signal) },
    { name: 'events-retention', pattern: config.retention.cron, run: () => sweepEventRetention(deps) },
    { name: 'message-purge', pattern: config.messages.purgeCron, run: () => purgeExpiredMessages(deps) },
    // Deadlines are hours long; failing a job up to 30 s late is fine.
    { name: 'job-deadline-sweep', pattern: '*/30 * * * * *', run: () => sweepJobDeadlines(deps) },
  ]
}

/** Starts the schedules; on Postgres the lead is an advisory lock on its own connection. */
export function startSchedules(deps: Deps, jobs = scheduledJobs(deps)): Scheduler {
  const { config } = deps
  const leader: Leadership =
    config.database.kind === 'pg' && deps.db.dialect === 'pg'
      ? new PgLeader(config.database.url, deps.log, deps.instanceId)
      : soleLeader
  const scheduler = new Scheduler(deps, leader, deps.instanceId)
  for (const job of jobs) scheduler.register(job)
  return scheduler
}

/** The in-memory read models stop listening to the bus (and drop what they hold). */
export function stopCaches(deps: Deps) {
  deps.routes.stop()
  deps.groupCache.stop()
  deps.poolCache.stop()
  deps.credentials.stop()
}

export type Running = { app: App; deps: Deps; url: string; stop(): Promise<void> }

/** Starts Switchboard: database, bootstrap, HTTP, schedules. `stop()` drains and closes. */
export async function startServer(
  config: Config,
  overrides: Overrides & { onBootstrapKey?: (key: string) => void } = {},
): Promise<Running> {
  const deps = await buildDeps(config, overrides)
  if (config.bootstrap) {
    const boot = await bootstrapDefaultWorkspace(deps)
    if (boot) {
      deps.log.info('created workspace "default"', { workspaceId: boot.workspaceId })
      overrides.onBootstrapKey?.(boot.apiKey)
    }
  }
  const app = createApp(deps).listen({ port: config.port, hostname: config.host })
  const server = app.server!
  deps.activity.start(config.activityFlushMs)
  deps.heartbeats.start(1000)
  const scheduler = startSchedules(deps)
  // Callbacks left pending by a previous run (or a crash) are picked up by this first round.
  deps.callbacks.start()
  deps.log.info('listening', {
    url: server.url.toString(),
    database: deps.db.dialect,
    instance: deps.instanceId,
  })

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      // Stop accepting, let in-flight requests finish, then cut what is left.
      const drained = server.stop(false)
      // Sockets are closed (1001) and their agents' socket presence cleared; the schedules
      // stop, their runs in progress finishing within the same grace.
      await deps.live.shutdown()
      const jobsStopped = scheduler.stop(config.shutdownGraceMs)
      const timer = new Promise<'timeout'>((r) =>
        setTimeout(() => r('timeout'), config.shutdownGraceMs).unref(),
      )
      if ((await Promise.race([drained.then(() => 'drained' as const), timer])) === 'timeout')
        await server.stop(true)
      // Async deliveries outlive their requests; give them the same grace, then hand callbacks back.
      await deps.deliveries.drain(config.shutdownGraceMs)
      await deps.callbacks.stop()
      await jobsStopped
      await deps.activity.stop().catch((e) => deps.log.error('final activity flush failed', { error: e }))
      await deps.heartbeats.stop().catch((e) => deps.log.error('final heartbeat flush failed', { error: e }))
      stopCaches(deps)
      await deps.db.close()
      deps.log.info('stopped')
    })()
    return stopping
  }
  return { app, deps, url: server.url.toString().replace(/\/$/, ''), stop }
}
