import type { Deps } from '../../deps'
import { refreshSockets, socketClosed, socketOpened } from '../presence/sockets'

/**
 * The agents with an open socket on this instance, as a presence signal: recorded when an
 * agent's first socket opens, re-recorded at every keepalive, cleared when its last one
 * closes. One agent's writes happen in the order the sockets opened and closed.
 */
export class SocketPresence {
  private readonly counts = new Map<string, number>()
  private readonly chains = new Map<string, Promise<void>>()
  private refreshing = false

  constructor(private readonly deps: Deps) {}

  up(agentId: string) {
    const n = (this.counts.get(agentId) ?? 0) + 1
    this.counts.set(agentId, n)
    if (n === 1) this.chain(agentId, () => socketOpened(this.deps, agentId))
  }

  down(agentId: string) {
    const n = (this.counts.get(agentId) ?? 1) - 1
    if (n > 0) {
      this.counts.set(agentId, n)
      return
    }
    this.counts.delete(agentId)
    this.chain(agentId, () => socketClosed(this.deps, agentId))
  }

  /** Re-records every agent with a socket here (skipped while the previous refresh still runs). */
  refresh() {
    if (this.refreshing || this.counts.size === 0) return
    this.refreshing = true
    refreshSockets(this.deps, [...this.counts.keys()])
      .catch((e) => this.deps.log.warn('socket presence refresh failed', { error: e }))
      .finally(() => {
        this.refreshing = false
      })
  }

  /** Waits for the writes in flight (at shutdown, before the database closes). */
  async settle() {
    await Promise.allSettled([...this.chains.values()])
  }

  private chain(agentId: string, fn: () => Promise<void>) {
    const next = (this.chains.get(agentId) ?? Promise.resolve())
      .then(fn)
      .catch((e) => this.deps.log.warn('socket presence update failed', { agentId, error: e }))
    this.chains.set(agentId, next)
    void next.then(() => {
      if (this.chains.get(agentId) === next) this.chains.delete(agentId)
    })
  }
}
