import { useEffect, useState } from 'preact/hooks'
import { api, call, type Schemas } from '../api/client'
import { useLiveEvents } from '../live'
import { Link, setQuery, useLocation } from '../router'
import { Badge, Code, Empty, Notice, PageTitle, Presence, Select, Time, useLoad, usePager } from '../ui'

type Agent = Schemas['Agent']
type PresenceName = Agent['presence']

/** The curl a new agent's runtime sends to come online (seed 001's first heartbeat). */
export function heartbeatCurl(agentId: string, token = 'tk_your_agent_token_here') {
  return [
    `curl -X POST ${location.origin}/api/agents/${agentId}/heartbeat \\`,
    `  -H "Authorization: Bearer ${token}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"status": "online"}'`,
  ].join('\n')
}

/** My Agents: every agent with its presence, live; filters and search live in the address. */
export function AgentsPage() {
  const { query } = useLocation()
  const q = query.get('q') ?? ''
  const presence = (query.get('presence') ?? '') as PresenceName | ''
  const status = (query.get('status') ?? '') as 'active' | 'inactive' | ''
  const archived = (query.get('archived') ?? 'false') as 'true' | 'false' | 'any'
  const label = query.get('label') ?? ''
  const capability = query.get('capability') ?? ''
  const pager = usePager()
  const filters = [q, presence, status, archived, label, capability].join('|')
  useEffect(() => pager.reset(), [filters])

  const list = useLoad(
    () =>
      call(
        api.GET('/api/agents', {
          params: {
            query: {
              limit: 25,
              cursor: pager.cursor,
              q: q || undefined,
              presence: presence || undefined,
              status: status || undefined,
              archived,
              label: label || undefined,
              capability: capability || undefined,
            },
          },
        }),
      ),
    [filters, pager.cursor],
  )

  // Presence changes arrive over the WebSocket: the row changes in place, no reload.
  useLiveEvents(['agent.status_changed'], (e) => {
    if (!list.data) return
    const d = e.data as { agentId: string; to: PresenceName; reason?: string }
    const agents = list.data.agents.map((a) =>
      a.id === d.agentId
        ? {
            ...a,
            presence: d.to,
            isOnline: d.to === 'online',
            lastHeartbeatAt: d.reason === 'heartbeat' ? e.at : a.lastHeartbeatAt,
          }
        : a,
    )
    list.set({ ...list.data, agents })
  })
  useLiveEvents(['agent.updated'], () => list.reload())

  const [search, setSearch] = useState(q)
  useEffect(() => setSearch(q), [q])
  useEffect(() => {
    if (search === q) return
    const t = setTimeout(() => setQuery({ q: search }), 250)
    return () => clearTimeout(t)
  }, [search, q])

  const filtered = Boolean(q || presence || status || label || capability || archived !== 'false')
  return (
    <section>
      <div class="title-row">
        <PageTitle>My Agents</PageTitle>
        <Link href="/agents/register" class="button">
          Register Agent
        </Link>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="agent-search">Search</label>
          <input
            id="agent-search"
            type="search"
            value={search}
            placeholder="Name or description"
            onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
          />
        </div>
        <Select
          label="Presence"
          value={presence}
          onValue={(v) => setQuery({ presence: v })}
          options={[
            ['', 'Any'],
            ['online', 'Online'],
            ['idle', 'Idle'],
            ['offline', 'Offline'],
          ]}
        />
        <Select
          label="Status"
          value={status}
          onValue={(v) => setQuery({ status: v })}
          options={[
            ['', 'Any'],
            ['active', 'Active'],
            ['inactive', 'Inactive'],
          ]}
        />
        <Select
          label="Archived"
          value={archived}
          onValue={(v) => setQuery({ archived: v === 'false' ? null : v })}
          options={[
            ['false', 'Not archived'],
            ['true', 'Archived'],
            ['any', 'Both'],
          ]}
        />
        <div class="field">
          <label for="agent-label">Label</label>
          <input
            id="agent-label"
            value={label}
            onChange={(e) => setQuery({ label: (e.target as HTMLInputElement).value })}
          />
        </div>
        <div class="field">
          <label for="agent-capability">Capability</label>
          <input
            id="agent-capability"
            value={capability}
            onChange={(e) => setQuery({ capability: (e.target as HTMLInputElement).value })}
          />
        </div>
      </form>
      <Notice error={list.error} />
      {list.data && list.data.agents.length === 0 ? (
        filtered ? (
          <Empty title="No agent matches these filters.">
            <button
              type="button"
              class="secondary"
              onClick={() =>
                setQuery({
                  q: null,
                  presence: null,
                  status: null,
                  label: null,
                  capability: null,
                  archived: null,
                })
              }
            >
              Clear the filters
            </button>
          </Empty>
        ) : (
          <Empty title="No agents yet.">
            <p>
              Register your first agent: it gets a token for its runtime and a permanent id.{' '}
              <Link href="/agents/register">Register Agent</Link>
            </p>
          </Empty>
        )
      ) : null}
      {list.data && list.data.agents.length > 0 ? (
        <table class="rows agents" aria-busy={list.loading}>
          <caption class="visually-hidden">Agents of this workspace</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Permanent id</th>
              <th scope="col">Presence</th>
              <th scope="col">Last heartbeat</th>
              <th scope="col">Label</th>
              <th scope="col">Capabilities</th>
            </tr>
          </thead>
          <tbody>
            {list.data.agents.map((a) => (
              <tr key={a.id} data-agent={a.id}>
                <td data-label="Name">
                  <Link href={`/agents/${a.permanentId}`}>{a.name}</Link>
                  {a.status === 'inactive' ? <Badge tone="warn">inactive</Badge> : null}
                  {a.archived ? <Badge>archived</Badge> : null}
                </td>
                <td data-label="Permanent id" class="mono">
                  {a.permanentId}
                </td>
                <td data-label="Presence">
                  <Presence value={a.presence} />
                </td>
                <td data-label="Last heartbeat">
                  <Time at={a.lastHeartbeatAt} />
                </td>
                <td data-label="Label">{a.label ?? <span class="muted">—</span>}</td>
                <td data-label="Capabilities">
                  {a.capabilities.length === 0 ? (
                    <span class="muted">—</span>
                  ) : (
                    a.capabilities.map((c) => <Badge key={c.name}>{c.name}</Badge>)
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {list.data ? pager.controls(list.data.nextCursor) : null}
      {list.data?.agents.some((a) => !a.lastHeartbeatAt) && !filtered ? (
        <details class="help">
          <summary>How an agent comes online</summary>
          <p>
            An agent is offline until its runtime sends a heartbeat with its own token (or a health check
            reaches its endpoint). Every one to two minutes keeps it well within the online window:
          </p>
          <Code>{heartbeatCurl(list.data.agents.find((a) => !a.lastHeartbeatAt)!.id)}</Code>
        </details>
      ) : null}
    </section>
  )
}
