import { and, eq, isNotNull } from 'drizzle-orm'
import type { Deps } from '../../deps'
import type { Counter } from '../../lib/metrics'
import { cronIntervalMs } from '../presence/rules'
import { checkEndpoint } from './check'
import { recordCheck, trimEvery, trimsNow } from './record'
import { spreadWindowMs, sweepPlan } from './spread'

const meters = new WeakMap<Deps['metrics'], { checks: Counter; lastSweepMs: number }>()
/** The health checker's metrics (registered at start-up, so they show before the first sweep). */
export function healthMeter(deps: Pick<Deps, 'metrics'>) {
  let m = meters.get(deps.metrics)
  if (!m) {
    const made = {
      checks: deps.metrics.counter('switchboard_health_checks_total', 'Health checks by result'),
      lastSweepMs: 0,
    }
    for (const result of ['passed', 'failed']) made.checks.series({ result })
    deps.metrics.gauge(
      'switchboard_health_sweep_duration_seconds',
      'How long the last health sweep took, in seconds',
      () => [[{}, made.lastSweepMs / 1000]],
    )
    meters.set(deps.metrics, made)
    m = made
  }
  return m
}

export type SweepSummary = {
  agents: number
  checked: number
  passed: number
  failed: number
  skipped: number
}

/**
 * One run of the health checker: every active, non-archived agent with an endpoint URL,
 * each at its stable offset in the spread window, at most `healthConcurrency` in flight.
 * Requests go through the outbound guard; results are recorded as they come in.
 * `signal` (the scheduler stopping) ends the run early: checks not yet started are skipped.
 */
export async function runHealthSweep(deps: Deps, signal?: AbortSignal): Promise<SweepSummary> {
  const { agents: a } = deps.db.t
  const { config } = deps
  const targets = await deps.db.orm
    .select({ id: a.id, url: a.endpointUrl })
    .from(a)
    .where(and(eq(a.status, 'active'), eq(a.archived, false), isNotNull(a.endpointUrl)))
  const intervalMs = cronIntervalMs(config.healthCron)
  // Which sweep this is, by the clock (the same on every instance and after a restart).
  const round = Math.floor(deps.clock.now().getTime() / intervalMs)
  const every = trimEvery(config.healthHistory)
  const windowMs = spreadWindowMs(intervalMs, config.healthTimeoutMs, config.healthSpread)
  const plan = sweepPlan(
    targets.map((t) => ({ id: t.id, url: t.url! })),
    windowMs,
  )
  const m = healthMeter(deps)
  // One trace per sweep: every check is a hop of it.
  const trace = deps.tracer.root('health sweep')
  const summary: SweepSummary = { agents: plan.length, checked: 0, passed: 0, failed: 0, skipped: 0 }
  const started = performance.now()
  const recorded: Promise<void>[] = []
  let next = 0
  const worker = async () => {
    while (next < plan.length) {
      const item = plan[next++]!
      const wait = item.offset - (performance.now() - started)
      if (wait > 0) await sleep(wait, signal)
      if (signal?.aborted) {
        summary.skipped++
        continue
      }
      const result = await checkEndpoint(deps.forward, item.url, {
        timeoutMs: config.healthTimeoutMs,
        trace,
        ...(signal ? { signal } : {}),
      })
      if (signal?.aborted) {
        summary.skipped++
        continue
      }
      summary.checked++
      if (result.ok) summary.passed++
      else summary.failed++
      m.checks.inc({ result: result.ok ? 'passed' : 'failed' })
      if (!result.ok) {
        // Why, in the agent's own words or the network's: never the URL, a header or a body.
        deps.log.info('health check failed', {
          agentId: item.id,
          traceId: trace.traceId,
          httpStatus: result.httpStatus,
          latencyMs: result.latencyMs,
          cause: result.error,
        })
      }
      // Not awaited: results are written in groups while the next checks go out. The agent
      // may have been deleted since the list was read: nothing to record then.
      recorded.push(
        recordCheck(deps, item.id, result, { trim: trimsNow(item.id, round, every) }).catch((e) =>
          deps.log.debug('health check not recorded', { agentId: item.id, error: e }),
        ),
      )
    }
  }
  const workers = Math.min(config.healthConcurrency, plan.length)
  await Promise.all(Array.from({ length: workers }, worker))
  await Promise.all(recorded)
  deps.tracer.endBackground(trace)
  m.lastSweepMs = performance.now() - started
  deps.log.debug('health sweep done', { ...summary, durationMs: Math.round(m.lastSweepMs) })
  return summary
}

/** Sleeps `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
