import { Cron } from 'croner'
import type { Presence } from '../../db/schema/types'

export type PresencePolicy = {
  /** A heartbeat younger than this decides presence (SWITCHBOARD_ONLINE_WINDOW_SECONDS). */
  onlineWindowMs: number
  /** A passed health check younger than this (two check intervals) counts as online. */
  healthFreshMs: number
  /** An open socket is refreshed at least this often by the instance holding it. */
  socketFreshMs: number
}

export type PresenceSignals = {
  reportedStatus: Presence | null
  lastHeartbeatAt: Date | null
  socketSeenAt: Date | null
  lastHealthOkAt: Date | null
  lastHealthCheckAt: Date | null
}

export type PresenceReason =
  | 'heartbeat'
  | 'websocket'
  | 'health_check'
  | 'heartbeat_expired'
  | 'health_check_failed'
  | 'no_signal'

/**
 * The contract's presence rules, in order:
 * 1. a heartbeat younger than the online window decides (its reported status, offline included);
 * 2. else an open WebSocket of the agent → online;
 * 3. else a passed health check younger than two check intervals → online
 *    (so one missed check never flips an agent: the pass before it is still fresh);
 * 4. else offline.
 */
export function decidePresence(
  s: PresenceSignals,
  now: Date,
  policy: PresencePolicy,
): { presence: Presence; reason: PresenceReason } {
  const t = now.getTime()
  const fresh = (d: Date | null, ms: number) => d !== null && t - d.getTime() < ms
  if (fresh(s.lastHeartbeatAt, policy.onlineWindowMs) && s.reportedStatus) {
    return { presence: s.reportedStatus, reason: 'heartbeat' }
  }
  if (fresh(s.socketSeenAt, policy.socketFreshMs)) return { presence: 'online', reason: 'websocket' }
  if (fresh(s.lastHealthOkAt, policy.healthFreshMs)) return { presence: 'online', reason: 'health_check' }
  if (s.lastHeartbeatAt && s.reportedStatus) return { presence: 'offline', reason: 'heartbeat_expired' }
  if (s.lastHealthCheckAt) return { presence: 'offline', reason: 'health_check_failed' }
  return { presence: 'offline', reason: 'no_signal' }
}

/** The time between two runs of a cron pattern (the health check interval). */
export function cronIntervalMs(pattern: string): number {
  const [a, b] = new Cron(pattern, { paused: true }).nextRuns(2)
  return a && b ? b.getTime() - a.getTime() : 60_000
}
