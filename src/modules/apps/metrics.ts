import type { Counter, Histogram, Registry } from '../../lib/metrics'

/** Connections that get a label of their own on one instance; calls of any further one count as "other". */
export const MAX_LABELLED_CONNECTIONS = 1000

/**
 * How an app call ended, as the `status` label: the class of the app's answer, or why there was
 * none. A closed set, so the label stays bounded.
 */
export type CallOutcome =
  | '1xx'
  | '2xx'
  | '3xx'
  | '4xx'
  | '5xx'
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'too_large'
  | 'token_error'
  | 'aborted'

export const statusClass = (status: number) =>
  `${Math.min(5, Math.max(1, Math.floor(status / 100)))}xx` as CallOutcome

/**
 * Metrics per app connection: calls by status and latency. The `connection` label is the
 * connection id — bounded by the workspaces' connections (SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE
 * each) and, whatever the number of workspaces, by MAX_LABELLED_CONNECTIONS per instance: the
 * first that many connections called on this instance keep their id, later ones are "other".
 */
export class AppMetrics {
  private readonly calls: Counter
  private readonly latency: Histogram
  private readonly tokens: Counter
  private readonly labelled = new Set<string>()

  constructor(
    registry: Registry,
    private readonly maxLabelled = MAX_LABELLED_CONNECTIONS,
  ) {
    this.calls = registry.counter(
      'switchboard_app_calls_total',
      'App connection calls by connection and status',
    )
    this.latency = registry.histogram(
      'switchboard_app_call_duration_seconds',
      'App connection call latency by connection (calls that reached out)',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    )
    this.tokens = registry.counter(
      'switchboard_app_token_requests_total',
      'OAuth2 token requests of app connections by outcome (ok, error)',
    )
  }

  private label(connectionId: string): string {
    if (this.labelled.has(connectionId)) return connectionId
    if (this.labelled.size >= this.maxLabelled) return 'other'
    this.labelled.add(connectionId)
    return connectionId
  }

  call(connectionId: string, status: CallOutcome, seconds: number | null) {
    const connection = this.label(connectionId)
    this.calls.inc({ connection, status })
    if (seconds !== null) this.latency.observe({ connection }, seconds)
  }

  tokenRequest(outcome: 'ok' | 'error') {
    this.tokens.inc({ outcome })
  }
}
