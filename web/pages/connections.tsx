import { useState } from 'preact/hooks'
import { api, call, fieldErrors } from '../api/client'
import { useLiveEvents } from '../live'
import {
  Badge,
  Empty,
  Field,
  Notice,
  PageTitle,
  Select,
  Time,
  useAction,
  useLoad,
  usePager,
  useSubmit,
} from '../ui'
import { useAgents } from './names'

/** Connections: lines between two agents; create, accept or decline incoming board ones, revoke. */
export function ConnectionsPage() {
  const agents = useAgents()
  const pager = usePager()
  const list = useLoad(
    () => call(api.GET('/api/connections', { params: { query: { limit: 50, cursor: pager.cursor } } })),
    [pager.cursor],
  )
  useLiveEvents(['connection.*'], () => list.reload())
  const action = useAction()
  const act = (fn: () => Promise<unknown>) =>
    action.run(async () => {
      await fn()
      list.reload()
    })
  return (
    <section>
      <PageTitle>Connections</PageTitle>
      <p class="lead">
        A connection is a line between two agents: either may call the other over it through the proxy, nobody
        else.
      </p>
      <CreateConnection agents={agents} onCreated={list.reload} />
      <Notice error={list.error ?? action.error} />
      {list.data && list.data.connections.length === 0 ? (
        <Empty title="No connections yet.">
          <p>
            Create one above: private between two of your agents, or board to an agent of another workspace.
          </p>
        </Empty>
      ) : null}
      {list.data && list.data.connections.length > 0 ? (
        <table class="rows">
          <caption class="visually-hidden">Connections</caption>
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.data.connections.map((c) => {
              const path = { params: { path: { id: c.id } } }
              return (
                <tr key={c.id}>
                  <td data-label="From">{agents.name(c.agentId, c.agentPermanentId)}</td>
                  <td data-label="To">{agents.name(c.targetAgentId, c.targetPermanentId)}</td>
                  <td data-label="Type">
                    {c.type}
                    {c.direction !== 'internal' ? <span class="muted"> ({c.direction})</span> : null}
                  </td>
                  <td data-label="Status">
                    <Badge tone={c.status === 'active' ? 'good' : c.status === 'pending' ? 'warn' : 'bad'}>
                      {c.status}
                    </Badge>
                  </td>
                  <td data-label="Created">
                    <Time at={c.createdAt} />
                  </td>
                  <td data-label="Actions" class="row-actions">
                    {c.status === 'pending' && c.direction === 'incoming' ? (
                      <>
                        <button
                          type="button"
                          onClick={() => act(() => call(api.POST('/api/connections/{id}/accept', path)))}
                        >
                          Accept
                        </button>
                        <button
                          type="button"
                          class="secondary"
                          onClick={() => act(() => call(api.POST('/api/connections/{id}/decline', path)))}
                        >
                          Decline
                        </button>
                      </>
                    ) : null}
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Revoke the connection ${c.agentPermanentId} → ${c.targetPermanentId}`}
                      onClick={() => act(() => call(api.DELETE('/api/connections/{id}', path)))}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      ) : null}
      {list.data ? pager.controls(list.data.nextCursor) : null}
    </section>
  )
}

function CreateConnection({
  agents,
  onCreated,
}: {
  agents: ReturnType<typeof useAgents>
  onCreated: () => void
}) {
  const [type, setType] = useState<'private' | 'board'>('private')
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  const [ok, setOk] = useState<string | null>(null)
  const create = useSubmit(async () => {
    setOk(null)
    const target =
      type === 'board' && /^agt-/.test(to.trim())
        ? { targetPermanentId: to.trim() }
        : { targetAgentId: to.trim() }
    const c = await call(api.POST('/api/connections', { body: { agentId: from, type, ...target } }))
    setOk(c.status === 'pending' ? 'Requested: pending until the other workspace accepts.' : 'Connected.')
    setTo('')
    onCreated()
  })
  const errors = fieldErrors(create.error)
  if (agents.loaded && agents.list.length === 0) return null
  return (
    <form onSubmit={create.submit} class="panel inline-form">
      <h2>New connection</h2>
      <Select
        label="Type"
        value={type}
        onValue={(v) => setType(v as 'private' | 'board')}
        options={[
          ['private', 'Private (both agents here)'],
          ['board', 'Board (any workspace, by permanent id)'],
        ]}
      />
      <Select
        label="From"
        value={from}
        onValue={setFrom}
        options={[['', 'Choose an agent'], ...agents.options]}
        error={errors.agentId}
      />
      {type === 'private' ? (
        <Select
          label="To"
          value={to}
          onValue={setTo}
          options={[['', 'Choose an agent'], ...agents.options]}
          error={errors.targetAgentId}
        />
      ) : (
        <Field
          label="To (permanent id)"
          value={to}
          onValue={setTo}
          placeholder="agt-xxxxxxxx"
          spellcheck={false}
          error={errors.targetPermanentId ?? errors.targetAgentId}
        />
      )}
      <div class="actions">
        <button type="submit" disabled={create.busy || !from || !to}>
          Connect
        </button>
      </div>
      <Notice error={create.error} ok={ok} />
    </form>
  )
}
