/** Time as a port, so schedules and expiry can be driven by tests. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }
