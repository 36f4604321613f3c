import type { Database } from './index'

/**
 * Group commit for a hot single-row write. On SQLite the cost of a write is its commit
 * (a WAL append), so writes that arrive together are run in one transaction and each
 * caller gets its own result. On Postgres each write runs at once: the pool already
 * runs them side by side.
 */
export class WriteBatcher<I, R> {
  private queue: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = []
  private scheduled = false

  constructor(
    private readonly db: Database,
    private readonly run: (item: I) => Promise<R>,
    private readonly maxBatch = 512,
  ) {}

  submit(item: I): Promise<R> {
    if (this.db.dialect !== 'sqlite') return this.run(item)
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private async flush() {
    const batch = this.queue.splice(0, this.maxBatch)
    this.scheduled = this.queue.length > 0
    if (this.scheduled) setImmediate(() => this.flush())
    try {
      const results = await this.db.tx(async () => {
        const out: R[] = []
        for (const b of batch) out.push(await this.run(b.item))
        return out
      })
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!)
    } catch {
      // One bad write must not fail the others: retry each on its own.
      for (const b of batch) this.db.write(() => this.run(b.item)).then(b.resolve, b.reject)
    }
  }
}
