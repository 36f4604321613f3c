import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import pkg from '../package.json'
import type { Config } from './config'
import { type Database, openDatabase } from './db'
import type { Deps } from './deps'
import { type App, createApp } from './http/app'
import { type Clock, systemClock } from './lib/clock'
import { decodeKeyOrNull, Sealer } from './lib/crypto'
import { writeFileAtomic } from './lib/files'
import { createLogger, type Logger } from './lib/log'
import { Registry } from './lib/metrics'
import { listenOrigin } from './lib/origin'
import { createOutboundClient } from './lib/outbound/client'
import { RateLimiter } from './lib/ratelimit'
import { type Leadership, PgLeader, soleLeader } from './lib/schedule/leader'
import { type ScheduledJob, Scheduler } from './lib/schedule/scheduler'
import { createTracer } from './lib/trace/tracer'
import { AppMetrics } from './modules/apps/metrics'
import { AppTokens } from './modules/apps/oauth'
import { CallbackWorker } from './modules/callbacks/worker'
import { type EventBus, LocalBus } from './modules/events/bus'
import { PgBus } from './modules/events/pg-bus'
import { sweepEventRetention } from './modules/events/retention'
import { RouteDirectory } from './modules/forward/directory'
import { ForwardingEngine } from './modules/forward/engine'
import { UpstreamMeter } from './modules/forward/meter'
import { LaneCache } from './modules/groups/cache'
import { groupNames } from './modules/groups/lane'
import { runHealthSweep } from './modules/health/sweep'
import { sweepJobDeadlines } from './modules/jobs/deadline'
import { Deliveries } from './modules/jobs/deliver'
import { OutcomeOutbox } from './modules/jobs/outcomes'
import { purgeExpiredMessages } from './modules/messages/purge'
import { poolNames } from './modules/pools/lane'
import { PoolRuntime } from './modules/pools/runtime'
import { Heartbeats } from './modules/presence/heartbeats'
import { cronIntervalMs } from './modules/presence/rules'
import { sweepPresence } from './modules/presence/service'
import { RelayMeter } from './modules/relays/relay'
import { registerServiceMetrics } from './modules/service/metrics'
import { purgeSessions } from './modules/sessions/service'
import { ActivityTracker } from './modules/tokens/activity'
import { CredentialResolver } from './modules/tokens/resolve'
import { purgeTriggerCalls } from './modules/triggers/calls'
import { bootstrapDefaultWorkspace } from './modules/workspaces/service'
import { LiveHub } from './modules/ws/hub'

export type Overrides = { clock?: Clock; log?: Logger; db?: Database }

/** Composes every dependency once. The database is opened and migrated here. */
export async function buildDeps(config: Config, overrides: Overrides = {}): Promise<Deps> {
  const log = overrides.log ?? createLogger(config.logLevel)
  const clock = overrides.clock ?? systemClock
  const db = overrides.db ?? (await openDatabase(config.database, log))
  await db.migrate()
  const instanceId = crypto.randomUUID()
  const bus = await openBus(config, db, log, instanceId)
  const sealer = new Sealer(masterKey(config, log), config.previousMasterKeys)
  const outbound = createOutboundClient({ allowedNetworks: config.allowedNetworks })
  const routes = new RouteDirectory({ db, sealer, bus, log, config })
  const metrics = new Registry()
  const tracer = await createTracer(config.otel, pkg.version, instanceId)
  const forward = new ForwardingEngine({
    outbound,
    routes,
    tracer,
    meter: new UpstreamMeter(metrics, config.metrics.idLabels),
  })
  const appMetrics = new AppMetrics(metrics)
  const deps: Deps = {
    config,
    db,
    clock,
    log,
    sealer,
    metrics,
    tracer,
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
    outcomes: undefined as unknown as OutcomeOutbox,
    limits: {
      proxy: new RateLimiter(config.rateLimits.proxy.perSecond, config.rateLimits.proxy.burst),
      ip: new RateLimiter(config.rateLimits.ip.perSecond, config.rateLimits.ip.burst),
      write: new RateLimiter(config.rateLimits.write.perSecond, config.rateLimits.write.burst),
      relayIp: new RateLimiter(config.rateLimits.relayIp.perSecond, config.rateLimits.relayIp.burst),
      relayAgent: new RateLimiter(config.rateLimits.relayAgent.perSecond, config.rateLimits.relayAgent.burst),
      trigger: new RateLimiter(config.rateLimits.trigger.perSecond, config.rateLimits.trigger.burst),
      hookIp: new RateLimiter(config.rateLimits.hookIp.perSecond, config.rateLimits.hookIp.burst),
    },
    listenUrl: null,
    routes,
    forward,
    groupCache: new LaneCache(bus, (note) => note.groupId, groupNames, config.cacheMaxEntries),
    poolCache: new LaneCache(bus, (note) => note.poolId, poolNames, config.cacheMaxEntries),
    poolRuntime: new PoolRuntime(config, metrics),
    deliveries: new Deliveries(),
    appTokens: new AppTokens({ forward, clock, log, appMetrics }),
    appMetrics,
    relayMeter: new RelayMeter(metrics, log),
  }
  deps.live = new LiveHub(deps)
  // An attempt always ends well within its lease, so a live instance's send is never taken over.
  const leaseMs = config.outboxLeaseMs
  deps.callbacks = new CallbackWorker(deps, { leaseMs, timeoutMs: Math.min(15_000, Math.floor(leaseMs / 2)) })
  deps.outcomes = new OutcomeOutbox(deps)
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
 * The master key: from SWITCHBOARD_MASTER_KEY, else from SWITCHBOARD_MASTER_KEY_FILE, else
 * (SQLite only; config refuses Postgres without one) a key file beside the database, created
 * 0600 on first start. A new file is written whole or not at all (temp file, fsync, link into
 * place), so a full disk or a crash can never leave an empty key that stops the next start.
 */
function masterKey(config: Config, log: Logger): Uint8Array {
  if (config.masterKey) return config.masterKey
  if (config.database.kind !== 'sqlite' && !config.masterKeyFile)
    throw new Error('SWITCHBOARD_MASTER_KEY is required with Postgres')
  if (config.database.kind === 'sqlite' && config.database.path === ':memory:' && !config.masterKeyFile)
    return crypto.getRandomValues(new Uint8Array(32))
  const file =
    config.masterKeyFile ??
    join(dirname(config.database.kind === 'sqlite' ? config.database.path : '.'), 'master.key')
  if (!existsSync(file)) {
    if (config.masterKeyFile && config.database.kind === 'pg')
      throw new Error(`${file} does not exist: with Postgres every instance must read the same key`)
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
    try {
      writeFileAtomic(file, `${key}\n`, { mode: 0o600, exclusive: true })
      log.info('generated a master key file', { path: file })
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as { code?: string }).code !== 'EEXIST') throw e
    }
  }
  const key = decodeKeyOrNull(readFileSync(file, 'utf8').trim())
  if (!key) throw new Error(`${file} does not hold a 32-byte key (64 hex characters or base64)`)
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
    { name: 'trigger-call-purge', pattern: config.retention.cron, run: () => purgeTriggerCalls(deps) },
    // Deadlines are hours long; failing a job up to 30 s late is fine.
    { name: 'job-deadline-sweep', pattern: '*/30 * * * * *', run: () => sweepJobDeadlines(deps) },
    { name: 'session-purge', pattern: '15 */10 * * * *', run: () => purgeSessions(deps) },
  ]
}

/** Starts the schedules; on Postgres the lead is a lease: an advisory lock on its own connection. */
export function startSchedules(deps: Deps, jobs = scheduledJobs(deps)): Scheduler {
  const { config } = deps
  const leader: Leadership =
    config.database.kind === 'pg' && deps.db.dialect === 'pg'
      ? new PgLeader(config.database.url, deps.log, deps.instanceId, config.leaderLeaseMs)
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
  deps.appTokens.stop()
}

/** Where the database is, for the start line: the SQLite file, or the Postgres host and database (never the password). */
function databaseWhere(config: Config): Record<string, string> {
  if (config.database.kind === 'sqlite') return { path: resolve(config.database.path) }
  try {
    const u = new URL(config.database.url)
    return { host: u.port ? `${u.hostname}:${u.port}` : u.hostname, name: u.pathname.replace(/^\//, '') }
  } catch {
    return {}
  }
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
  // Outcomes a previous run could not record (the database down at its stop) land first.
  await deps.outcomes.replay()
  let app: App
  try {
    app = createApp(deps).listen({ port: config.port, hostname: config.host })
  } catch (e) {
    await deps.db.close()
    throw new Error(
      `cannot listen on ${config.host}:${config.port}: the port is in use or not allowed (${(e as Error).message})`,
    )
  }
  const server = app.server!
  deps.listenUrl = listenOrigin(config.host, server.port ?? config.port)
  deps.activity.start(config.activityFlushMs)
  deps.heartbeats.start(1000)
  const scheduler = startSchedules(deps)
  // Callbacks left pending by a previous run (or a crash) are picked up by this first round.
  deps.callbacks.start()
  deps.log.info('listening', {
    url: server.url.toString(),
    docs: new URL('/docs', server.url).toString(),
    version: pkg.version,
    database: deps.db.dialect,
    ...databaseWhere(config),
    instance: deps.instanceId,
  })

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      // One budget for the whole stop. The last part of it is kept for the writes that make
      // the stop lose nothing: cut deliveries' outcomes, the outbox's spool, the flushes.
      const grace = config.shutdownGraceMs
      const deadline = performance.now() + grace
      const left = () => Math.max(0, deadline - performance.now())
      const tail = Math.min(grace / 4, 2000)
      const beforeTail = () => Math.max(0, left() - tail)
      const within = async (what: string, p: Promise<unknown>, ms = left()) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const done = await Promise.race([
          p.then(
            () => true,
            (e) => {
              deps.log.error(`${what} failed at stop`, { error: e })
              return true
            },
          ),
          new Promise<false>((r) => {
            timer = setTimeout(() => r(false), ms)
          }),
        ])
        clearTimeout(timer)
        if (!done) deps.log.warn(`${what} did not finish within the shutdown grace`)
      }
      // Stop accepting, let in-flight requests finish, then cut what is left.
      const drained = server.stop(false)
      // Sockets are closed (1001) and their agents' socket presence cleared; the schedules
      // stop, their runs in progress finishing within the same budget.
      await within('closing sockets', deps.live.shutdown(), beforeTail())
      const jobsStopped = scheduler.stop(beforeTail())
      const finished = await Promise.race([
        drained.then(() => true),
        Bun.sleep(beforeTail()).then(() => false),
      ])
      if (!finished) {
        deps.log.warn('cutting requests still under way at stop')
        void server.stop(true)
      }
      // Async deliveries outlive their requests: those still under way are cut and recorded failed.
      await deps.deliveries.drain(beforeTail(), tail / 2, deps.log)
      await within('stopping callbacks', deps.callbacks.stop(), beforeTail())
      await within('stopping schedules', jobsStopped, beforeTail())
      await within('job outcomes', deps.outcomes.stop())
      await within('final activity flush', deps.activity.stop())
      await within('final heartbeat flush', deps.heartbeats.stop())
      stopCaches(deps)
      await within('closing the database', deps.db.close())
      // Spans still queued go out before the process ends (bounded by the exporter's timeout).
      await within('exporting spans', deps.tracer.shutdown(), Math.max(left(), 2000))
      deps.log.info('stopped', { ms: Math.round(grace - left()) })
    })()
    return stopping
  }
  return { app, deps, url: server.url.toString().replace(/\/$/, ''), stop }
}
