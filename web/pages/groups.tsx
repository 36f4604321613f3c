import { useState } from 'preact/hooks'
import { api, call, fieldErrors } from '../api/client'
import { Link } from '../router'
import {
  Badge,
  Empty,
  Field,
  Notice,
  PageTitle,
  Presence,
  Select,
  Time,
  useAction,
  useLoad,
  useSubmit,
} from '../ui'
import { EditGroup, PriorityInput, STRATEGIES, type Strategy } from './group-edit'
import { useAgents } from './names'

/** Broadcast groups and pools, on two tabs with their own addresses. */
export function GroupsPage({ tab }: { tab: 'groups' | 'pools' }) {
  const agents = useAgents()
  return (
    <section>
      <PageTitle>Groups and Pools</PageTitle>
      <p class="lead">
        A broadcast group fans one call out to every member; a pool sends it to one member chosen by its
        strategy, and to the next when one fails.
      </p>
      <nav class="tabs" aria-label="Groups and pools">
        <ul>
          <li>
            <Link href="/groups" aria-current={tab === 'groups' ? 'page' : undefined}>
              Broadcast groups
            </Link>
          </li>
          <li>
            <Link href="/pools" aria-current={tab === 'pools' ? 'page' : undefined}>
              Pools
            </Link>
          </li>
        </ul>
      </nav>
      {tab === 'groups' ? <Groups agents={agents} /> : <Pools agents={agents} />}
    </section>
  )
}

type Agents = ReturnType<typeof useAgents>

function Groups({ agents }: { agents: Agents }) {
  const list = useLoad(
    () => call(api.GET('/api/broadcast-groups', { params: { query: { limit: 100 } } })),
    [],
  )
  const [name, setName] = useState('')
  const create = useSubmit(async () => {
    await call(api.POST('/api/broadcast-groups', { body: { name } }))
    setName('')
    list.reload()
  })
  return (
    <div class="stack">
      <form onSubmit={create.submit} class="panel inline-form">
        <h2>New broadcast group</h2>
        <Field label="Name" value={name} onValue={setName} required error={fieldErrors(create.error).name} />
        <div class="actions">
          <button type="submit" disabled={create.busy || !name.trim()}>
            Create group
          </button>
        </div>
        <Notice error={create.error} />
      </form>
      <Notice error={list.error} />
      {list.data && list.data.groups.length === 0 ? <Empty title="No broadcast groups yet." /> : null}
      {list.data?.groups.map((g) => (
        <Members
          key={g.id}
          kind="group"
          id={g.id}
          name={g.name}
          agents={agents}
          onDeleted={list.reload}
          onChanged={list.reload}
        />
      ))}
    </div>
  )
}

function Pools({ agents }: { agents: Agents }) {
  const list = useLoad(() => call(api.GET('/api/pools', { params: { query: { limit: 100 } } })), [])
  const [name, setName] = useState('')
  const [strategy, setStrategy] = useState<Strategy>('round_robin')
  const create = useSubmit(async () => {
    await call(api.POST('/api/pools', { body: { name, strategy } }))
    setName('')
    list.reload()
  })
  return (
    <div class="stack">
      <form onSubmit={create.submit} class="panel inline-form">
        <h2>New pool</h2>
        <Field label="Name" value={name} onValue={setName} required error={fieldErrors(create.error).name} />
        <Select
          label="Strategy"
          value={strategy}
          onValue={(v) => setStrategy(v as Strategy)}
          options={STRATEGIES}
        />
        <div class="actions">
          <button type="submit" disabled={create.busy || !name.trim()}>
            Create pool
          </button>
        </div>
        <Notice error={create.error} />
      </form>
      <Notice error={list.error} />
      {list.data && list.data.pools.length === 0 ? <Empty title="No pools yet." /> : null}
      {list.data?.pools.map((p) => (
        <Members
          key={p.id}
          kind="pool"
          id={p.id}
          name={p.name}
          agents={agents}
          onDeleted={list.reload}
          onChanged={list.reload}
        />
      ))}
    </div>
  )
}

type Member = {
  id: string
  agentId: string
  permanentId: string
  name: string
  presence: string
  priority?: number
  consecutiveFailures?: number
  ejectedUntil?: string | null
}

/** One group or pool with its members: add, remove, and (pools) priority and ejection state. */
function Members(props: {
  kind: 'group' | 'pool'
  id: string
  name: string
  agents: Agents
  onDeleted: () => void
  onChanged: () => void
}) {
  const { kind, id } = props
  const path = { params: { path: { id } } }
  const detail = useLoad(
    () =>
      kind === 'group'
        ? call(api.GET('/api/broadcast-groups/{id}', path))
        : call(api.GET('/api/pools/{id}', path)),
    [id],
  )
  const [adding, setAdding] = useState('')
  const [priority, setPriority] = useState('0')
  const action = useAction()
  const run = (fn: () => Promise<unknown>) =>
    action.run(async () => {
      await fn()
      detail.reload()
    })
  const members = (detail.data?.members ?? []) as Member[]
  const add = () =>
    run(() =>
      kind === 'group'
        ? call(api.POST('/api/broadcast-groups/{id}/members', { ...path, body: { agentIds: [adding] } }))
        : call(
            api.POST('/api/pools/{id}/members', {
              ...path,
              body: { agentId: adding, priority: Number(priority || 0) },
            }),
          ),
    ).then(() => setAdding(''))
  const remove = (m: Member) =>
    run(() =>
      kind === 'group'
        ? call(
            api.DELETE('/api/broadcast-groups/{id}/members/{memberId}', {
              params: { path: { id, memberId: m.id } },
            }),
          )
        : call(
            api.DELETE('/api/pools/{id}/members/{memberId}', { params: { path: { id, memberId: m.id } } }),
          ),
    )
  const del = () =>
    action.run(async () => {
      await (kind === 'group'
        ? call(api.DELETE('/api/broadcast-groups/{id}', path))
        : call(api.DELETE('/api/pools/{id}', path)))
      props.onDeleted()
    })
  const candidates = props.agents.options.filter(([aid]) => !members.some((m) => m.agentId === aid))
  const titleId = `${kind}-${id}`
  const d = detail.data
  const name = d?.name ?? props.name
  const strategy = (d as { strategy?: Strategy } | undefined)?.strategy
  return (
    <section class="panel" aria-labelledby={titleId}>
      <div class="title-row">
        <h2 id={titleId}>{name}</h2>
        {strategy ? <Badge>{strategy.replace('_', ' ')}</Badge> : null}
        <span class="muted mono small">{id}</span>
      </div>
      {d?.description ? <p class="description">{d.description}</p> : null}
      {d ? (
        <p class="muted small">
          May call it:{' '}
          {d.allowedCallerIds === null
            ? 'any agent of the workspace'
            : d.allowedCallerIds.length === 0
              ? 'no agent'
              : d.allowedCallerIds
                  .map((a) => props.agents.list.find((x) => x.id === a)?.name ?? a)
                  .join(', ')}
        </p>
      ) : null}
      <Notice error={detail.error ?? action.error} />
      {members.length === 0 ? (
        <p class="muted">No members yet: add agents below.</p>
      ) : (
        <table class="rows">
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Presence</th>
              {kind === 'pool' ? <th scope="col">Priority</th> : null}
              {kind === 'pool' ? <th scope="col">Passive health</th> : null}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.id}>
                <td data-label="Member">
                  <Link href={`/agents/${m.permanentId}`}>{m.name}</Link>{' '}
                  <span class="mono small">{m.permanentId}</span>
                </td>
                <td data-label="Presence">
                  <Presence value={m.presence} />
                </td>
                {kind === 'pool' ? (
                  <td data-label="Priority">
                    <PriorityInput poolId={id} member={m} onSaved={detail.reload} />
                  </td>
                ) : null}
                {kind === 'pool' ? (
                  <td data-label="Passive health">
                    {m.ejectedUntil && new Date(m.ejectedUntil) > new Date() ? (
                      <>
                        <Badge tone="bad">ejected</Badge> until <Time at={m.ejectedUntil} />
                      </>
                    ) : (
                      <Badge tone="good">in rotation</Badge>
                    )}{' '}
                    <span class="muted small">{m.consecutiveFailures ?? 0} failures in a row</span>
                  </td>
                ) : null}
                <td data-label="Actions">
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Remove ${m.name} from ${name}`}
                    onClick={() => remove(m)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="inline-form">
        <Select
          label={`Add an agent to ${name}`}
          value={adding}
          onValue={setAdding}
          options={[['', 'Choose an agent'], ...candidates]}
        />
        {kind === 'pool' ? (
          <Field
            label="Priority"
            type="number"
            min={0}
            value={priority}
            onValue={setPriority}
            hint="Failover tries lower numbers first."
          />
        ) : null}
        <div class="actions">
          <button type="button" class="secondary" disabled={!adding || action.busy} onClick={add}>
            Add member
          </button>
          <button type="button" class="danger" disabled={action.busy} onClick={del}>
            Delete {kind}
          </button>
        </div>
      </div>
      {d ? (
        <EditGroup
          kind={kind}
          value={{ ...d, strategy }}
          agents={props.agents}
          onSaved={() => {
            detail.reload()
            props.onChanged()
          }}
        />
      ) : null}
    </section>
  )
}
