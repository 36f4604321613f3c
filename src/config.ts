import { dirname, join } from 'node:path'
import { Cron } from 'croner'
import { z } from 'zod'
import { decodeKeyOrNull as decodeKey } from './lib/crypto'
import { OTEL_SETTINGS, type OtelConfig, otelConfig } from './lib/trace/config'

/**
 * Every setting Switchboard reads from the environment, parsed once at start.
 * Nothing else in the codebase reads `process.env`; the parsed config is injected.
 */
const seconds = (def: number, min = 1, max = 31_536_000) =>
  z.coerce.number().int().min(min).max(max).default(def)
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes')

/** What one workspace may hold: generous, but finite. */
const count = (def: number) => z.coerce.number().int().min(1).max(100_000_000).default(def)
const bytes = (def: number) => z.coerce.number().int().min(65_536).max(1_099_511_627_776).default(def)

const databaseUrl = z
  .string()
  .default('')
  .refine((v) => v === '' || v.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(v), {
    message: 'expected unset, sqlite:PATH or postgres://user:pass@host:port/db',
  })

const cidrList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )

const masterKey = z
  .string()
  .optional()
  .refine((v) => v === undefined || v === '' || decodeKey(v) !== null, {
    message: 'expected 32 bytes as 64 hex characters or base64',
  })

export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: databaseUrl,
  SWITCHBOARD_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  SWITCHBOARD_DB_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  SWITCHBOARD_SQLITE_SYNCHRONOUS: z.enum(['normal', 'full', 'NORMAL', 'FULL']).default('normal'),
  SWITCHBOARD_ADMIN_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),
  SWITCHBOARD_MASTER_KEY: masterKey,
  SWITCHBOARD_MASTER_KEY_FILE: z.string().default(''),
  SWITCHBOARD_PREVIOUS_MASTER_KEYS: z
    .string()
    .default('')
    .refine(
      (v) =>
        v
          .split(',')
          .filter(Boolean)
          .every((k) => decodeKey(k.trim()) !== null),
      { message: 'expected a comma-separated list of 32-byte keys (hex or base64)' },
    ),
  SWITCHBOARD_ONLINE_WINDOW_SECONDS: seconds(900),
  SWITCHBOARD_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SWITCHBOARD_MAX_JSON_BYTES: z.coerce.number().int().min(1024).max(16_777_216).default(1_048_576),
  SWITCHBOARD_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(4_294_967_295)
    .default(256 * 1024 * 1024),
  SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: seconds(10, 0, 600),
  SWITCHBOARD_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  SWITCHBOARD_SPOOL_DIR: z.string().default(''),
  SWITCHBOARD_ACTIVITY_FLUSH_SECONDS: seconds(10, 1, 3600),
  SWITCHBOARD_TOKEN_CACHE_SECONDS: seconds(30, 0, 3600),
  SWITCHBOARD_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  SWITCHBOARD_PRESENCE_SWEEP_CRON: z.string().min(1).default('*/15 * * * * *'),
  SWITCHBOARD_HEALTH_CRON: z.string().min(1).default('0 * * * * *'),
  SWITCHBOARD_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SWITCHBOARD_HEALTH_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(64),
  SWITCHBOARD_HEALTH_HISTORY: z.coerce.number().int().min(10).max(100_000).default(1440),
  SWITCHBOARD_HEALTH_SPREAD: z.coerce.number().min(0).max(0.95).default(0.8),
  SWITCHBOARD_EVENTS_RETENTION_HOURS: seconds(168, 1, 87_600),
  SWITCHBOARD_EVENTS_MAX_PER_WORKSPACE: z.coerce.number().int().min(100).max(100_000_000).default(100_000),
  SWITCHBOARD_RETENTION_CRON: z.string().min(1).default('0 */5 * * * *'),
  SWITCHBOARD_MESSAGE_TTL_SECONDS: seconds(604_800, 1, 2_592_000),
  SWITCHBOARD_MESSAGE_PURGE_CRON: z.string().min(1).default('30 * * * * *'),
  SWITCHBOARD_WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  SWITCHBOARD_WS_PING_SECONDS: seconds(30, 1, 300),
  SWITCHBOARD_WS_MAX_BUFFER_BYTES: z.coerce.number().int().min(16_384).max(268_435_456).default(4_194_304),
  SWITCHBOARD_WS_RESYNC_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  SWITCHBOARD_WS_MAX_PER_CREDENTIAL: z.coerce.number().int().min(1).max(1_000_000).default(100),
  SWITCHBOARD_ALLOWED_NETWORKS: cidrList,
  SWITCHBOARD_TRUST_PROXY: bool(false),
  SWITCHBOARD_PUBLIC_URL: z
    .string()
    .default('')
    .refine((v) => v === '' || /^https?:\/\/[^/]+$/.test(v.replace(/\/$/, '')), {
      message: 'expected an origin such as https://switchboard.example.com',
    }),
  SWITCHBOARD_SYNC_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  SWITCHBOARD_ASYNC_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SWITCHBOARD_BROADCAST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SWITCHBOARD_POOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  SWITCHBOARD_POOL_EJECT_FAILURES: z.coerce.number().int().min(0).max(1000).default(5),
  SWITCHBOARD_POOL_EJECT_SECONDS: seconds(30, 1, 3600),
  SWITCHBOARD_BUFFERED_BODY_BYTES: z.coerce.number().int().min(1024).max(104_857_600).default(1_048_576),
  SWITCHBOARD_JOB_DEADLINE_SECONDS: seconds(86_400, 1, 31_536_000),
  SWITCHBOARD_CALLBACK_RETRY_SCALE: z.coerce.number().min(0.0001).max(100).default(1),
  SWITCHBOARD_WEBHOOK_DISABLE_AFTER_SECONDS: seconds(259_200, 60, 31_536_000),
  SWITCHBOARD_OUTBOX_LEASE_SECONDS: seconds(60, 2, 3600),
  SWITCHBOARD_RATE_LIMIT_TRIGGER_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(10),
  SWITCHBOARD_RATE_LIMIT_TRIGGER_BURST: z.coerce.number().int().min(1).max(1_000_000).default(50),
  SWITCHBOARD_RATE_LIMIT_HOOK_IP_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(20),
  SWITCHBOARD_RATE_LIMIT_HOOK_IP_BURST: z.coerce.number().int().min(1).max(1_000_000).default(60),
  SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(100),
  SWITCHBOARD_RATE_LIMIT_PROXY_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200),
  SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(20),
  SWITCHBOARD_RATE_LIMIT_IP_BURST: z.coerce.number().int().min(1).max(1_000_000).default(60),
  SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(20),
  SWITCHBOARD_RATE_LIMIT_WRITE_BURST: z.coerce.number().int().min(1).max(1_000_000).default(100),
  SWITCHBOARD_MAX_AGENTS_PER_WORKSPACE: count(10_000),
  SWITCHBOARD_MAX_AGENT_METADATA_BYTES: z.coerce.number().int().min(4096).max(16_777_216).default(65_536),
  SWITCHBOARD_MAX_METADATA_BYTES_PER_WORKSPACE: bytes(64 * 1024 * 1024),
  SWITCHBOARD_MAX_MESSAGES_PER_WORKSPACE: count(100_000),
  SWITCHBOARD_MAX_MESSAGE_BYTES_PER_WORKSPACE: bytes(256 * 1024 * 1024),
  SWITCHBOARD_MAX_PENDING_COMMANDS_PER_WORKSPACE: count(10_000),
  SWITCHBOARD_MAX_PAGE_BYTES: z.coerce
    .number()
    .int()
    .min(65_536)
    .max(268_435_456)
    .default(4 * 1024 * 1024),
  SWITCHBOARD_APP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(30_000),
  SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE: z.coerce.number().int().min(1).max(10_000).default(100),
  SWITCHBOARD_RELAY_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  SWITCHBOARD_RELAY_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(300_000),
  SWITCHBOARD_RELAY_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(4_294_967_295).default(16_777_216),
  SWITCHBOARD_RATE_LIMIT_RELAY_IP_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(20),
  SWITCHBOARD_RATE_LIMIT_RELAY_IP_BURST: z.coerce.number().int().min(1).max(1_000_000).default(60),
  SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(50),
  SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(100),
  SWITCHBOARD_BOOTSTRAP: bool(true),
  SWITCHBOARD_FAST_PATH: bool(true),
  SWITCHBOARD_SESSION_IDLE_SECONDS: seconds(28_800, 60, 2_592_000),
  SWITCHBOARD_SESSION_MAX_SECONDS: seconds(86_400, 60, 2_592_000),
  SWITCHBOARD_LEADER_LEASE_SECONDS: seconds(15, 2, 30),
  SWITCHBOARD_METRICS_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),
  SWITCHBOARD_METRICS_ID_LABELS: bool(false),
  ...OTEL_SETTINGS,
})

export type Config = {
  port: number
  host: string
  database:
    | { kind: 'sqlite'; path: string; synchronous: 'normal' | 'full' }
    | { kind: 'pg'; url: string; poolSize: number; timeoutMs: number }
  adminToken: string | undefined
  masterKey: Uint8Array | undefined
  /** Where the master key is read from (and, on SQLite, created) when SWITCHBOARD_MASTER_KEY is unset. */
  masterKeyFile: string | null
  previousMasterKeys: Uint8Array[]
  onlineWindowMs: number
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  maxJsonBytes: number
  maxBodyBytes: number
  /** The whole stop (drain, deliveries, flushes, close) fits in this. */
  shutdownGraceMs: number
  /** Where job outcomes the database could not take at stop are kept for the next start (null: nowhere). */
  spoolDir: string | null
  activityFlushMs: number
  tokenCacheMs: number
  /** Entries each in-memory cache (credentials, route agents, connections, groups, pools) may hold. */
  cacheMaxEntries: number
  presenceSweepCron: string
  healthCron: string
  healthTimeoutMs: number
  healthConcurrency: number
  healthHistory: number
  /** Fraction of the health interval over which the checks are spread (0: all at once). */
  healthSpread: number
  retention: { eventHours: number; eventsPerWorkspace: number; cron: string }
  messages: { defaultTtlSeconds: number; purgeCron: string }
  live: {
    authTimeoutMs: number
    pingMs: number
    maxBufferBytes: number
    resyncMs: number
    /** Open sockets one credential's owner (agent or workspace key) may hold on an instance. */
    maxPerCredential: number
  }
  allowedNetworks: string[]
  trustProxy: boolean
  bootstrap: boolean
  /** The hottest routes are served ahead of the framework's per-route work (http/fast.ts). */
  fastPath: boolean
  /** Postgres: a leader silent this long loses the lead (and notices before it runs anything). */
  leaderLeaseMs: number
  publicUrl: string | null
  timeouts: { syncMs: number; asyncMs: number; broadcastMs: number; poolMs: number }
  /** Passive health on pools: this many consecutive failures eject a member for `ms` (0 failures: never). */
  poolEjection: { failures: number; ms: number }
  bufferedBodyBytes: number
  jobDeadlineMs: number
  callbackRetryScale: number
  /** An agent webhook failing (no success) this long is disabled. */
  webhooks: { disableAfterMs: number }
  /** How long an outbox claim is one instance's: a crashed instance's sends are taken over after it. */
  outboxLeaseMs: number
  /** The external relays: the whole exchange, no byte in either direction, the request body. */
  relay: { timeoutMs: number; idleMs: number; maxBodyBytes: number }
  rateLimits: {
    proxy: { perSecond: number; burst: number }
    ip: { perSecond: number; burst: number }
    /** Every mutating route but the proxy lanes, per credential (agent, or workspace key). */
    write: { perSecond: number; burst: number }
    relayIp: { perSecond: number; burst: number }
    relayAgent: { perSecond: number; burst: number }
    /** Per webhook trigger, on calls that passed verification. */
    trigger: { perSecond: number; burst: number }
    /** Per client IP on `POST /hooks/{id}`, before anything is looked up. */
    hookIp: { perSecond: number; burst: number }
  }
  /** What one workspace may hold, and one agent's metadata. */
  quotas: {
    agentsPerWorkspace: number
    agentMetadataBytes: number
    metadataBytesPerWorkspace: number
    messagesPerWorkspace: number
    messageBytesPerWorkspace: number
    pendingCommandsPerWorkspace: number
  }
  /** A list page stops before its items pass this many bytes (a smaller page, with nextCursor). */
  pageBytes: number
  /** App connections: the default timeout of a call, and how many connections a workspace may hold. */
  apps: { timeoutMs: number; perWorkspace: number }
  /** Console sign-ins: ended after `idleMs` without a request, and `maxMs` after sign-in at the latest. */
  sessions: { idleMs: number; maxMs: number }
  metrics: {
    /** When set, `/metrics` takes `Authorization: Bearer <token>` and nothing else. */
    token: string | undefined
    /** Agent and workspace ids as labels of the upstream metrics (unbounded: off by default). */
    idLabels: boolean
  }
  /** OpenTelemetry export, from the standard OTEL_* variables; null: nothing is exported. */
  otel: OtelConfig | null
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = ConfigSchema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`)
    throw new ConfigError(lines.join('\n'))
  }
  const e = parsed.data
  for (const cron of [
    'SWITCHBOARD_PRESENCE_SWEEP_CRON',
    'SWITCHBOARD_HEALTH_CRON',
    'SWITCHBOARD_RETENTION_CRON',
    'SWITCHBOARD_MESSAGE_PURGE_CRON',
  ] as const) {
    if (!isValidCron(e[cron])) throw new ConfigError(`${cron}: expected a cron pattern such as "0 * * * * *"`)
  }
  const sqlite = e.DATABASE_URL.startsWith('sqlite:') ? sqlitePath(e.DATABASE_URL) : './data/switchboard.db'
  if (sqlite === null)
    throw new ConfigError(
      'DATABASE_URL: expected sqlite:PATH (sqlite:data/sb.db or sqlite://data/sb.db relative to the working directory, sqlite:///var/lib/sb.db absolute)',
    )
  const database = e.DATABASE_URL.startsWith('postgres')
    ? {
        kind: 'pg' as const,
        url: e.DATABASE_URL,
        poolSize: e.SWITCHBOARD_DB_POOL_SIZE,
        timeoutMs: e.SWITCHBOARD_DB_TIMEOUT_MS,
      }
    : {
        kind: 'sqlite' as const,
        path: sqlite,
        synchronous: e.SWITCHBOARD_SQLITE_SYNCHRONOUS.toLowerCase() as 'normal' | 'full',
      }
  if (e.SWITCHBOARD_SESSION_IDLE_SECONDS > e.SWITCHBOARD_SESSION_MAX_SECONDS) {
    throw new ConfigError('SWITCHBOARD_SESSION_IDLE_SECONDS: must not exceed SWITCHBOARD_SESSION_MAX_SECONDS')
  }
  const masterKey = e.SWITCHBOARD_MASTER_KEY ? (decodeKey(e.SWITCHBOARD_MASTER_KEY) ?? undefined) : undefined
  if (database.kind === 'pg' && !masterKey && !e.SWITCHBOARD_MASTER_KEY_FILE) {
    throw new ConfigError(
      'SWITCHBOARD_MASTER_KEY: required with Postgres (every instance must share it, or read it from SWITCHBOARD_MASTER_KEY_FILE); generate one with `openssl rand -hex 32`',
    )
  }
  return {
    port: e.PORT,
    host: e.HOST,
    database,
    adminToken: e.SWITCHBOARD_ADMIN_TOKEN,
    masterKey,
    masterKeyFile: e.SWITCHBOARD_MASTER_KEY_FILE || null,
    previousMasterKeys: e.SWITCHBOARD_PREVIOUS_MASTER_KEYS.split(',')
      .filter(Boolean)
      .map((k) => decodeKey(k.trim())!),
    onlineWindowMs: e.SWITCHBOARD_ONLINE_WINDOW_SECONDS * 1000,
    logLevel: e.SWITCHBOARD_LOG_LEVEL,
    maxJsonBytes: e.SWITCHBOARD_MAX_JSON_BYTES,
    maxBodyBytes: e.SWITCHBOARD_MAX_BODY_BYTES,
    shutdownGraceMs: e.SWITCHBOARD_SHUTDOWN_GRACE_MS ?? e.SWITCHBOARD_SHUTDOWN_GRACE_SECONDS * 1000,
    spoolDir:
      e.SWITCHBOARD_SPOOL_DIR ||
      (database.kind === 'pg'
        ? './data/spool'
        : database.path === ':memory:'
          ? null
          : join(dirname(database.path), 'spool')),
    activityFlushMs: e.SWITCHBOARD_ACTIVITY_FLUSH_SECONDS * 1000,
    tokenCacheMs: e.SWITCHBOARD_TOKEN_CACHE_SECONDS * 1000,
    cacheMaxEntries: e.SWITCHBOARD_CACHE_MAX_ENTRIES,
    presenceSweepCron: e.SWITCHBOARD_PRESENCE_SWEEP_CRON,
    healthCron: e.SWITCHBOARD_HEALTH_CRON,
    healthTimeoutMs: e.SWITCHBOARD_HEALTH_TIMEOUT_MS,
    healthConcurrency: e.SWITCHBOARD_HEALTH_CONCURRENCY,
    healthHistory: e.SWITCHBOARD_HEALTH_HISTORY,
    healthSpread: e.SWITCHBOARD_HEALTH_SPREAD,
    retention: {
      eventHours: e.SWITCHBOARD_EVENTS_RETENTION_HOURS,
      eventsPerWorkspace: e.SWITCHBOARD_EVENTS_MAX_PER_WORKSPACE,
      cron: e.SWITCHBOARD_RETENTION_CRON,
    },
    messages: {
      defaultTtlSeconds: e.SWITCHBOARD_MESSAGE_TTL_SECONDS,
      purgeCron: e.SWITCHBOARD_MESSAGE_PURGE_CRON,
    },
    live: {
      authTimeoutMs: e.SWITCHBOARD_WS_AUTH_TIMEOUT_MS,
      pingMs: e.SWITCHBOARD_WS_PING_SECONDS * 1000,
      maxBufferBytes: e.SWITCHBOARD_WS_MAX_BUFFER_BYTES,
      resyncMs: e.SWITCHBOARD_WS_RESYNC_MS,
      maxPerCredential: e.SWITCHBOARD_WS_MAX_PER_CREDENTIAL,
    },
    allowedNetworks: e.SWITCHBOARD_ALLOWED_NETWORKS,
    trustProxy: e.SWITCHBOARD_TRUST_PROXY,
    bootstrap: e.SWITCHBOARD_BOOTSTRAP,
    fastPath: e.SWITCHBOARD_FAST_PATH,
    leaderLeaseMs: e.SWITCHBOARD_LEADER_LEASE_SECONDS * 1000,
    publicUrl: e.SWITCHBOARD_PUBLIC_URL ? e.SWITCHBOARD_PUBLIC_URL.replace(/\/$/, '') : null,
    timeouts: {
      syncMs: e.SWITCHBOARD_SYNC_TIMEOUT_MS,
      asyncMs: e.SWITCHBOARD_ASYNC_TIMEOUT_MS,
      broadcastMs: e.SWITCHBOARD_BROADCAST_TIMEOUT_MS,
      poolMs: e.SWITCHBOARD_POOL_TIMEOUT_MS,
    },
    poolEjection: {
      failures: e.SWITCHBOARD_POOL_EJECT_FAILURES,
      ms: e.SWITCHBOARD_POOL_EJECT_SECONDS * 1000,
    },
    bufferedBodyBytes: e.SWITCHBOARD_BUFFERED_BODY_BYTES,
    jobDeadlineMs: e.SWITCHBOARD_JOB_DEADLINE_SECONDS * 1000,
    callbackRetryScale: e.SWITCHBOARD_CALLBACK_RETRY_SCALE,
    webhooks: { disableAfterMs: e.SWITCHBOARD_WEBHOOK_DISABLE_AFTER_SECONDS * 1000 },
    outboxLeaseMs: e.SWITCHBOARD_OUTBOX_LEASE_SECONDS * 1000,
    relay: {
      timeoutMs: e.SWITCHBOARD_RELAY_TIMEOUT_MS,
      idleMs: e.SWITCHBOARD_RELAY_IDLE_TIMEOUT_MS,
      maxBodyBytes: e.SWITCHBOARD_RELAY_MAX_BODY_BYTES,
    },
    rateLimits: {
      proxy: {
        perSecond: e.SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND,
        burst: e.SWITCHBOARD_RATE_LIMIT_PROXY_BURST,
      },
      ip: { perSecond: e.SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND, burst: e.SWITCHBOARD_RATE_LIMIT_IP_BURST },
      write: {
        perSecond: e.SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND,
        burst: e.SWITCHBOARD_RATE_LIMIT_WRITE_BURST,
      },
      trigger: {
        perSecond: e.SWITCHBOARD_RATE_LIMIT_TRIGGER_PER_SECOND,
        burst: e.SWITCHBOARD_RATE_LIMIT_TRIGGER_BURST,
      },
      hookIp: {
        perSecond: e.SWITCHBOARD_RATE_LIMIT_HOOK_IP_PER_SECOND,
        burst: e.SWITCHBOARD_RATE_LIMIT_HOOK_IP_BURST,
      },
      relayIp: {
        perSecond: e.SWITCHBOARD_RATE_LIMIT_RELAY_IP_PER_SECOND,
        burst: e.SWITCHBOARD_RATE_LIMIT_RELAY_IP_BURST,
      },
      relayAgent: {
        perSecond: e.SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_PER_SECOND,
        burst: e.SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_BURST,
      },
    },
    quotas: {
      agentsPerWorkspace: e.SWITCHBOARD_MAX_AGENTS_PER_WORKSPACE,
      agentMetadataBytes: e.SWITCHBOARD_MAX_AGENT_METADATA_BYTES,
      metadataBytesPerWorkspace: e.SWITCHBOARD_MAX_METADATA_BYTES_PER_WORKSPACE,
      messagesPerWorkspace: e.SWITCHBOARD_MAX_MESSAGES_PER_WORKSPACE,
      messageBytesPerWorkspace: e.SWITCHBOARD_MAX_MESSAGE_BYTES_PER_WORKSPACE,
      pendingCommandsPerWorkspace: e.SWITCHBOARD_MAX_PENDING_COMMANDS_PER_WORKSPACE,
    },
    pageBytes: e.SWITCHBOARD_MAX_PAGE_BYTES,
    sessions: {
      idleMs: e.SWITCHBOARD_SESSION_IDLE_SECONDS * 1000,
      maxMs: e.SWITCHBOARD_SESSION_MAX_SECONDS * 1000,
    },
    apps: {
      timeoutMs: e.SWITCHBOARD_APP_TIMEOUT_MS,
      perWorkspace: e.SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE,
    },
    metrics: { token: e.SWITCHBOARD_METRICS_TOKEN, idLabels: e.SWITCHBOARD_METRICS_ID_LABELS },
    otel: otelConfig(e),
  }
}

/**
 * The file a `sqlite:` URL names. `sqlite:PATH` and `sqlite://PATH` are relative to the working
 * directory unless PATH starts with `/` (`sqlite:///var/lib/sb.db`); `sqlite::memory:` is an
 * in-memory database. Null for what is not a file path: nothing, a directory, a query string.
 */
export function sqlitePath(url: string): string | null {
  let path = url.slice('sqlite:'.length)
  if (path.startsWith('//')) path = path.slice(2)
  if (path === '' || path.endsWith('/') || /[?#]/.test(path) || path.includes('\u0000')) return null
  return path
}

function isValidCron(pattern: string): boolean {
  try {
    // croner validates on construction; a paused job never fires.
    new Cron(pattern, { paused: true }).stop()
    return true
  } catch {
    return false
  }
}
