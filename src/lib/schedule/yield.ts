/**
 * Lets requests and timers that are waiting run before a long sweep goes on. On SQLite every
 * query is synchronous and a chain of awaited queries never leaves the microtask queue, so a
 * sweep over many rows that does not call this between its pages holds off every request
 * until it ends.
 */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
