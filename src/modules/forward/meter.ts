import type { Counter, CounterSeries, Histogram, HistogramSeries, Registry } from '../../lib/metrics'
import type { Lane } from './lanes'

/** What became of one upstream call: the answer's status class, or why there was none. */
export type Outcome =
  | '1xx'
  | '2xx'
  | '3xx'
  | '4xx'
  | '5xx'
  | 'timeout'
  | 'refused'
  | 'unresolvable'
  | 'network'
  | 'aborted'
  | 'too_large'

export const statusOutcome = (status: number): Outcome =>
  status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : status >= 200 ? '2xx' : '1xx'

type Bound = {
  latency: HistogramSeries
  outcomes: Partial<Record<Outcome, CounterSeries>>
  labels: Record<string, string>
}

/** Past this many agent/workspace label sets, further ones are counted under `_other`. */
const MAX_ID_SERIES = 5000

/**
 * The upstream metrics of every call the engine makes, by lane and protocol (and, when
 * SWITCHBOARD_METRICS_ID_LABELS is on, by agent and workspace). Series are bound on first use:
 * a call adds to plain fields.
 */
export class UpstreamMeter {
  private readonly requests: Counter
  private readonly latency: Histogram
  private readonly bound = new Map<string, Bound>()
  private readonly byLane = new Map<Lane, Map<string | null, Bound>>()
  private idSeries = 0

  constructor(
    metrics: Registry,
    private readonly idLabels: boolean,
  ) {
    this.requests = metrics.counter(
      'switchboard_upstream_requests_total',
      'Calls to agents and other upstreams by lane, protocol and outcome (status class, or why no answer came)',
    )
    this.latency = metrics.histogram(
      'switchboard_upstream_request_duration_seconds',
      'Upstream latency until the answer headers (or the failure), by lane and protocol, in seconds',
    )
  }

  record(
    lane: Lane,
    protocol: string | null,
    outcome: Outcome,
    seconds: number,
    agent: { permanentId: string; workspaceId: string } | null,
  ) {
    // Without id labels (the default) a lane's series are found without building a key.
    let b: Bound | undefined
    if (this.idLabels && agent !== null) {
      const ids = { agent: agent.permanentId, workspace: agent.workspaceId }
      const k = `${lane}\u0000${protocol}\u0000${ids.agent}\u0000${ids.workspace}`
      b = this.bound.get(k) ?? this.bind(k, lane, protocol, ids)
    } else {
      let byProtocol = this.byLane.get(lane)
      if (!byProtocol) {
        byProtocol = new Map()
        this.byLane.set(lane, byProtocol)
      }
      b = byProtocol.get(protocol)
      if (!b) {
        b = this.bind(`${lane}\u0000${protocol}`, lane, protocol, null)
        byProtocol.set(protocol, b)
      }
    }
    b.latency.observe(seconds)
    let series = b.outcomes[outcome]
    if (!series) {
      series = this.requests.series({ ...b.labels, outcome })
      b.outcomes[outcome] = series
    }
    series.value++
  }

  private bind(
    k: string,
    lane: Lane,
    protocol: string | null,
    ids: { agent: string; workspace: string } | null,
  ) {
    let labels: Record<string, string> = { lane, protocol: protocol ?? 'none' }
    if (ids) {
      const full = this.idSeries >= MAX_ID_SERIES
      labels = { ...labels, agent: full ? '_other' : ids.agent, workspace: full ? '_other' : ids.workspace }
      if (full) {
        const other = `${lane}\u0000${protocol}\u0000_other`
        const had = this.bound.get(other)
        if (had) return had
        k = other
      } else this.idSeries++
    }
    const b: Bound = { latency: this.latency.series(labels), outcomes: {}, labels }
    this.bound.set(k, b)
    return b
  }
}
