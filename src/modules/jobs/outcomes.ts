import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Deps } from '../../deps'
import { writeFileAtomic } from '../../lib/files'
import { finishJob, noteAccepted, type Outcome } from './lifecycle'

/** What a first delivery learned: a final outcome, or that the agent took the job (202). */
export type DeliveryOutcome = Outcome | { status: 'accepted'; httpStatus: number }

type Pending = { jobId: string; outcome: DeliveryOutcome }

const RETRY_MS = 1000

/**
 * The outbox of delivery outcomes not recorded yet. An agent answered, so the job must not
 * stay `running`: an outcome the database refused (down, timed out) is kept and written again
 * every second until it lands; what is still unwritten when the process stops is spooled to
 * a file (written whole or not at all) in `dir`, and the next start (of any instance that
 * shares the directory) records it. Recording is idempotent: the job's conditional update
 * lets one outcome win, so a replayed outcome of a job finished meanwhile changes nothing.
 */
export class OutcomeOutbox {
  private pending = new Map<string, Pending>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private retrying: Promise<void> | null = null
  private stopped = false

  private readonly dir: string | null

  constructor(private readonly deps: Deps) {
    this.dir = deps.config.spoolDir
  }

  /** Records the outcome now, or keeps it for the retries. Never throws. */
  async record(jobId: string, outcome: DeliveryOutcome): Promise<void> {
    try {
      await this.apply({ jobId, outcome })
    } catch (e) {
      this.deps.log.warn('job outcome not recorded yet; kept to retry', { jobId, error: e })
      this.keep({ jobId, outcome })
    }
  }

  /** Outcomes waiting for the database. */
  get size(): number {
    return this.pending.size
  }

  private async apply(p: Pending) {
    if (p.outcome.status === 'accepted') await noteAccepted(this.deps, p.jobId, p.outcome.httpStatus)
    else await finishJob(this.deps, p.jobId, p.outcome)
  }

  private keep(p: Pending) {
    const had = this.pending.get(p.jobId)
    // A final outcome is never replaced by the "accepted" note it follows.
    if (had && had.outcome.status !== 'accepted' && p.outcome.status === 'accepted') return
    this.pending.set(p.jobId, p)
    if (!this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = null
        void this.retry()
      }, RETRY_MS)
      this.timer.unref?.()
    }
  }

  /** One pass over what is waiting; what still fails is kept for the next. */
  retry(): Promise<void> {
    this.retrying ??= (async () => {
      try {
        for (const p of [...this.pending.values()]) {
          try {
            await this.apply(p)
            if (this.pending.get(p.jobId) === p) this.pending.delete(p.jobId)
          } catch {
            // Still down: no use trying the rest now.
            break
          }
        }
      } finally {
        this.retrying = null
        if (this.pending.size > 0 && !this.stopped && !this.timer) {
          this.timer = setTimeout(() => {
            this.timer = null
            void this.retry()
          }, RETRY_MS)
          this.timer.unref?.()
        }
      }
    })()
    return this.retrying
  }

  /** Records outcomes spooled by a previous run. */
  async replay(): Promise<number> {
    if (!this.dir) return 0
    let names: string[]
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    } catch {
      return 0
    }
    let recorded = 0
    for (const name of names) {
      const file = join(this.dir, name)
      let p: Pending
      try {
        p = JSON.parse(readFileSync(file, 'utf8')) as Pending
      } catch (e) {
        this.deps.log.error('spooled job outcome unreadable; left in place', { file, error: e })
        continue
      }
      try {
        await this.apply(p)
        rmSync(file, { force: true })
        recorded++
      } catch (e) {
        this.deps.log.warn('spooled job outcome not recorded yet', { jobId: p.jobId, error: e })
        return recorded
      }
    }
    if (recorded > 0) this.deps.log.info('recorded job outcomes spooled by the last run', { count: recorded })
    return recorded
  }

  /** A last pass, then whatever is left goes to the spool. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.pending.size > 0) await this.retry()
    if (this.pending.size === 0) return
    if (!this.dir) {
      this.deps.log.error('job outcomes lost at stop: no spool directory', { count: this.pending.size })
      return
    }
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      for (const p of this.pending.values())
        writeFileAtomic(join(this.dir, `${p.jobId}.json`), JSON.stringify(p))
      this.deps.log.warn('job outcomes spooled for the next start', {
        count: this.pending.size,
        dir: this.dir,
      })
      this.pending.clear()
    } catch (e) {
      this.deps.log.error('job outcomes could not be spooled', { count: this.pending.size, error: e })
    }
  }
}
