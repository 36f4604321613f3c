import { api, call, type Schemas } from '../api/client'
import { useLiveEvents } from '../live'
import { Link, navigate } from '../router'
import { Badge, Code, Empty, Notice, PageTitle, Presence, Time, useLoad, useSubmit } from '../ui'
import { AccessTab } from './agent-access'
import { ActivityTab, HealthTab } from './agent-health'
import { MessagesTab } from './agent-messages'
import { SettingsTab } from './agent-settings'
import { heartbeatCurl } from './agents'

export type Agent = Schemas['Agent']

const TABS = [
  ['settings', 'Settings'],
  ['access', 'Token and credential'],
  ['health', 'Health'],
  ['activity', 'Audit log'],
  ['messages', 'Messages and commands'],
] as const

/** One agent's manage page; each tab has its own address (/agents/agt-…/health). */
export function AgentPage({ id, tab }: { id: string; tab: string }) {
  const agent = useLoad(
    () => call(api.GET('/api/agents/{agentId}', { params: { path: { agentId: id } } })),
    [id],
  )
  useLiveEvents(['agent.status_changed', 'agent.updated'], (e) => {
    const d = e.data as { agentId?: string; to?: Agent['presence'] }
    if (!agent.data || d.agentId !== agent.data.id) return
    if (e.type === 'agent.status_changed' && d.to)
      agent.set({ ...agent.data, presence: d.to, isOnline: d.to === 'online' })
    else agent.reload()
  })
  if (agent.error) {
    return (
      <section>
        <PageTitle>Agent not found</PageTitle>
        <Notice error={agent.error} />
        <p>
          <Link href="/agents">Back to My Agents</Link>
        </p>
      </section>
    )
  }
  const a = agent.data
  if (!a) return <p class="loading">Loading…</p>
  const base = `/agents/${a.permanentId}`
  return (
    <section>
      <p class="crumbs">
        <Link href="/agents">My Agents</Link> / {a.name}
      </p>
      <div class="title-row">
        <PageTitle>{a.name}</PageTitle>
        <Presence value={a.presence} />
        {a.status === 'inactive' ? <Badge tone="warn">inactive</Badge> : null}
        {a.archived ? <Badge>archived</Badge> : null}
      </div>
      <dl class="facts inline">
        <dt>Permanent id</dt>
        <dd class="mono">{a.permanentId}</dd>
        <dt>UUID</dt>
        <dd class="mono">{a.id}</dd>
        <dt>Last heartbeat</dt>
        <dd>
          <Time at={a.lastHeartbeatAt} />
        </dd>
        <dt>Tasks</dt>
        <dd>{a.taskCount}</dd>
      </dl>
      <StatusActions agent={a} onChange={agent.set} />
      {!a.lastHeartbeatAt && a.presence === 'offline' ? (
        <Empty title="This agent has not sent a heartbeat yet.">
          <p>From its runtime, with its own token:</p>
          <Code>{heartbeatCurl(a.id)}</Code>
        </Empty>
      ) : null}
      <nav class="tabs" aria-label="Agent sections">
        <ul>
          {TABS.map(([t, label]) => (
            <li key={t}>
              <Link
                href={t === 'settings' ? base : `${base}/${t}`}
                aria-current={tab === t ? 'page' : undefined}
              >
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div class="tab-panel">
        {tab === 'settings' ? <SettingsTab agent={a} onSaved={agent.set} /> : null}
        {tab === 'access' ? (
          <AccessTab agent={a} onChange={agent.set} onDeleted={() => navigate('/agents')} />
        ) : null}
        {tab === 'health' ? <HealthTab agent={a} /> : null}
        {tab === 'activity' ? <ActivityTab agent={a} /> : null}
        {tab === 'messages' ? <MessagesTab agent={a} /> : null}
      </div>
    </section>
  )
}

/** Deactivate/reactivate (the token is refused while inactive) and archive/unarchive. */
function StatusActions({ agent: a, onChange }: { agent: Agent; onChange: (a: Agent) => void }) {
  const patch = (body: { status?: 'active' | 'inactive'; archived?: boolean }) =>
    call(api.PATCH('/api/agents/{agentId}', { params: { path: { agentId: a.id } }, body })).then(onChange)
  const active = useSubmit(() => patch({ status: a.status === 'active' ? 'inactive' : 'active' }))
  const archive = useSubmit(() => patch({ archived: !a.archived }))
  return (
    <div class="actions status-actions">
      <button type="button" class="secondary" disabled={active.busy} onClick={() => active.submit()}>
        {a.status === 'active' ? 'Deactivate' : 'Reactivate'}
      </button>
      <button type="button" class="secondary" disabled={archive.busy} onClick={() => archive.submit()}>
        {a.archived ? 'Unarchive' : 'Archive'}
      </button>
      <Notice error={active.error ?? archive.error} />
    </div>
  )
}
