/**
 * Spreading scheduled checks over their interval, so 10,000 agents do not all fire in the
 * same second. Pure: the same agent lands on the same offset on every instance and every
 * run, so its checks stay one interval apart even when the leader changes.
 */

/**
 * FNV-1a over the string, then murmur3's 32-bit finalizer: stable across processes and
 * versions. The finalizer matters: ids that differ only in their last characters (UUIDs)
 * leave FNV's high bits nearly alike, and the high bits choose the offset.
 */
export function stableHash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * The part of the interval checks may start in: `fraction` of it, and never so late that
 * a check running into its timeout would still be going when the next run starts.
 */
export function spreadWindowMs(intervalMs: number, timeoutMs: number, fraction: number): number {
  return Math.max(0, Math.floor(Math.min(intervalMs * fraction, intervalMs - timeoutMs)))
}

/**
 * At most this many distinct start times per run: checks that start together share the
 * process's wake-up, its connections and their database commit, which costs a fraction of
 * waking up for each one alone (10,000 agents over 48 s: 50 every 240 ms).
 */
export const MAX_SLOTS = 200

/** When, after the run starts, this agent's check starts: in [0, windowMs), on one of MAX_SLOTS slots. */
export function spreadOffsetMs(agentId: string, windowMs: number): number {
  if (windowMs <= 0) return 0
  const slotMs = Math.max(1, windowMs / MAX_SLOTS)
  const slots = Math.max(1, Math.floor(windowMs / slotMs))
  return Math.floor(Math.floor((stableHash(agentId) / 0x1_0000_0000) * slots) * slotMs)
}

/** A run's order: each target with its offset, earliest first. */
export function sweepPlan<T extends { id: string }>(
  targets: T[],
  windowMs: number,
): (T & { offset: number })[] {
  return targets
    .map((t) => ({ ...t, offset: spreadOffsetMs(t.id, windowMs) }))
    .sort((a, b) => a.offset - b.offset)
}
