import { Cron } from 'croner'
import type { Logger } from '../log'
import type { Registry } from '../metrics'
import type { Leadership } from './leader'

export type ScheduledJob = {
  name: string
  /** A croner pattern (seconds field first). */
  pattern: string
  /**
   * `signal` aborts when the scheduler stops or (for a leader-only job) the lead is lost: a
   * long run (a spread-out sweep) should end early.
   */
  run: (signal: AbortSignal) => Promise<unknown>
  /** Run on every instance instead of only on the leader (for work about local state). */
  everyInstance?: boolean
}

/**
 * The in-process scheduler every module registers its jobs on. Each job is overrun
 * protected (a run still going when the next is due makes that one skip), its errors are
 * logged and never thrown, and, unless it says otherwise, it runs only on the leader.
 */
export class Scheduler {
  private crons: Cron[] = []
  private running = new Set<Promise<unknown>>()
  private stopped = false
  private readonly abort = new AbortController()
  /** Runs of leader-only jobs: aborted when the lead is lost, since another instance runs them now. */
  private readonly leaderRuns = new Set<AbortController>()
  private readonly runs

  constructor(
    private readonly deps: { log: Logger; metrics: Registry },
    readonly leader: Leadership,
    private readonly instanceId: string,
  ) {
    this.runs = deps.metrics.counter(
      'switchboard_scheduled_runs_total',
      'Scheduled job runs by job and result',
    )
    deps.metrics.gauge(
      'switchboard_scheduler_leader',
      'Whether this instance runs the scheduled sweeps',
      () => [[{}, leader.isLeader ? 1 : 0]],
    )
    leader.onLost(() => {
      for (const c of this.leaderRuns) c.abort(new Error('this instance no longer leads'))
    })
  }

  register(job: ScheduledJob): void {
    if (this.stopped) return
    const tick = async () => {
      if (this.stopped) return
      if (!job.everyInstance && !(await this.leader.claim())) return
      if (this.stopped) return
      const started = performance.now()
      const ctl = job.everyInstance ? null : new AbortController()
      const signal = ctl ? AbortSignal.any([this.abort.signal, ctl.signal]) : this.abort.signal
      if (ctl) this.leaderRuns.add(ctl)
      const run = job.run(signal).finally(() => ctl && this.leaderRuns.delete(ctl))
      this.running.add(run)
      try {
        await run
        this.runs.inc({ job: job.name, result: 'ok' })
        this.deps.log.debug('scheduled job ran', {
          job: job.name,
          instance: this.instanceId,
          durationMs: Math.round(performance.now() - started),
        })
      } catch (e) {
        this.runs.inc({ job: job.name, result: 'error' })
        throw e
      } finally {
        this.running.delete(run)
      }
    }
    this.crons.push(
      new Cron(
        job.pattern,
        {
          protect: true,
          catch: (e) => this.deps.log.error('scheduled job failed', { job: job.name, error: e }),
        },
        tick,
      ),
    )
  }

  /** Stops every schedule and waits (up to `graceMs`) for runs in progress, then lets go of the lead. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true
    for (const c of this.crons) c.stop()
    this.abort.abort()
    const pending = Promise.allSettled([...this.running])
    await Promise.race([pending, new Promise((r) => setTimeout(r, graceMs).unref())])
    await this.leader.close()
  }
}
