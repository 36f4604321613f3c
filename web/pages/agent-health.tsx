import type { ComponentChildren } from 'preact'
import { useEffect } from 'preact/hooks'
import { api, call, type Schemas } from '../api/client'
import { useLiveEvents, useLiveStatus } from '../live'
import { Badge, Empty, Notice, Time, useLoad, usePager } from '../ui'
import type { Agent } from './agent'

type Check = Schemas['AgentHealth']['checks'][number]

/**
 * How often the open tab asks for new checks. The live stream says when presence changes
 * (refetched at once), not each check: a check per agent per interval would flood every
 * socket and the events table, and most checks change nothing but the history.
 */
export const HEALTH_POLL_MS = 10_000

/** Calls `reload` every `ms` while the page is visible, and at once when it becomes visible again. */
function usePoll(reload: () => void, ms: number) {
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | null = null
    const start = () => {
      timer ??= setInterval(reload, ms)
    }
    const stop = () => {
      if (timer) clearInterval(timer)
      timer = null
    }
    const onVisibility = () => {
      if (document.visibilityState === 'visible') {
        reload()
        start()
      } else stop()
    }
    if (document.visibilityState === 'visible') start()
    document.addEventListener('visibilitychange', onVisibility)
    return () => {
      stop()
      document.removeEventListener('visibilitychange', onVisibility)
    }
  }, [ms])
}

/** Health history: uptime over 24 h, a chart of the recent checks, and the checks themselves; live. */
export function HealthTab({ agent: a }: { agent: Agent }) {
  const health = useLoad(
    () =>
      call(
        api.GET('/api/agents/{agentId}/health', {
          params: { path: { agentId: a.id }, query: { limit: 60 } },
        }),
      ),
    [a.id],
  )
  // A check that moves presence arrives as agent.status_changed: fetch the history at once.
  useLiveEvents(['agent.status_changed'], (e) => {
    if ((e.data as { agentId?: string }).agentId === a.id) health.reload()
  })
  // Back from a dropped stream: whatever happened meanwhile.
  const live = useLiveStatus()
  useEffect(() => {
    if (live === 'live' && health.data) health.reload()
  }, [live])
  usePoll(health.reload, HEALTH_POLL_MS)
  if (health.error && !health.data) return <Notice error={health.error} />
  const h = health.data
  if (!h) return <p class="loading">Loading…</p>
  const ratio = h.uptime.ratio
  return (
    <div class="stack">
      <p class="hint" aria-live="off">
        Updates by itself: new checks appear here within {HEALTH_POLL_MS / 1000} s, at once when presence
        changes.
      </p>
      {health.error ? <Notice error={health.error} /> : null}
      <dl class="facts inline">
        <dt>Uptime (24 h)</dt>
        <dd>
          {ratio === null ? 'no checks yet' : `${(ratio * 100).toFixed(ratio === 1 ? 0 : 1)} %`}{' '}
          <span class="muted">
            ({h.uptime.passed} of {h.uptime.checks} checks passed)
          </span>
        </dd>
        <dt>Last passed</dt>
        <dd>
          <Time at={h.lastHealthOkAt} />
        </dd>
      </dl>
      {h.checks.length === 0 ? (
        <Empty title="No health checks yet.">
          <p>
            {a.endpointUrl
              ? 'The scheduled checker requests the endpoint URL every interval; results appear here.'
              : 'Health checks request the endpoint URL. Add one on the Settings tab to have the agent checked.'}
          </p>
        </Empty>
      ) : (
        <>
          <Chart checks={[...h.checks].reverse()} />
          <table class="rows">
            <caption>Recent checks, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Result</th>
                <th scope="col">HTTP status</th>
                <th scope="col">Latency</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {h.checks.slice(0, 20).map((c) => (
                <tr key={c.at}>
                  <td data-label="When">
                    <Time at={c.at} />
                  </td>
                  <td data-label="Result">
                    {c.ok ? <Badge tone="good">passed</Badge> : <Badge tone="bad">failed</Badge>}
                  </td>
                  <td data-label="HTTP status">{c.httpStatus ?? '—'}</td>
                  <td data-label="Latency">{c.latencyMs === null ? '—' : `${c.latencyMs} ms`}</td>
                  <td data-label="Error">{c.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  )
}

/** Latency bars, oldest on the left; a failed check is a full-height bar in the failure colour. */
function Chart({ checks }: { checks: Check[] }) {
  const W = 600
  const H = 120
  const max = Math.max(1, ...checks.map((c) => c.latencyMs ?? 0))
  const w = W / Math.max(checks.length, 30)
  const failed = checks.filter((c) => !c.ok).length
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${checks.length} recent checks, ${failed} failed; slowest ${max} ms`}
      >
        {checks.map((c, i) => {
          const h = c.ok ? Math.max(2, ((c.latencyMs ?? 0) / max) * (H - 4)) : H - 4
          return (
            <rect
              key={c.at}
              class={c.ok ? 'ok' : 'fail'}
              x={i * w + 1}
              y={H - h}
              width={Math.max(1, w - 2)}
              height={h}
            >
              <title>
                {new Date(c.at).toLocaleString()}:{' '}
                {c.ok ? `${c.latencyMs} ms` : (c.error ?? `HTTP ${c.httpStatus}`)}
              </title>
            </rect>
          )
        })}
      </svg>
      <figcaption>
        Latency of the last {checks.length} checks (slowest {max} ms); failures in red.
      </figcaption>
    </figure>
  )
}

/** The agent's audit log. */
export function ActivityTab({ agent: a }: { agent: Agent }) {
  const pager = usePager()
  const logs = useLoad(
    () =>
      call(
        api.GET('/api/agents/{agentId}/audit-logs', {
          params: { path: { agentId: a.id }, query: { limit: 25, cursor: pager.cursor } },
        }),
      ),
    [a.id, pager.cursor],
  )
  if (logs.error) return <Notice error={logs.error} />
  if (!logs.data) return <p class="loading">Loading…</p>
  return <AuditTable logs={logs.data.logs} controls={pager.controls(logs.data.nextCursor)} />
}

type Log = Schemas['AuditLog']

export function AuditTable({ logs, controls }: { logs: Log[]; controls: ComponentChildren }) {
  if (logs.length === 0) return <Empty title="Nothing recorded yet." />
  return (
    <>
      <table class="rows">
        <caption class="visually-hidden">Audit log, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">By</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {logs.map((l) => (
            <tr key={l.id}>
              <td data-label="When">
                <Time at={l.timestamp} />
              </td>
              <td data-label="Action" class="mono">
                {l.action}
              </td>
              <td data-label="By">{l.actorType.replace('_', ' ')}</td>
              <td data-label="Details" class="mono small">
                {Object.entries(l.metadata)
                  .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
                  .join(', ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {controls}
    </>
  )
}
