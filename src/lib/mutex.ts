/** A FIFO async mutex. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve()
  private queued = 0

  /** Someone holds it (running), whether or not others wait. */
  get busy(): boolean {
    return this.queued > 0
  }

  get waiting(): number {
    return Math.max(0, this.queued - 1)
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail
    let release!: () => void
    this.tail = new Promise<void>((r) => {
      release = r
    })
    this.queued++
    try {
      await previous
      return await fn()
    } finally {
      this.queued--
      release()
    }
  }
}
