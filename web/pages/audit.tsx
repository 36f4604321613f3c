import { useEffect, useState } from 'preact/hooks'
import { api, call } from '../api/client'
import { setQuery, useLocation } from '../router'
import { Field, Notice, PageTitle, Select, useLoad, usePager } from '../ui'
import { AuditTable } from './agent-health'
import { useAgents } from './names'

/** The workspace's audit log, filtered by action, agent and time (in the address). */
export function AuditPage() {
  const { query } = useLocation()
  const action = query.get('action') ?? ''
  const agentId = query.get('agentId') ?? ''
  const since = query.get('since') ?? ''
  const agents = useAgents()
  const pager = usePager()
  const filters = `${action}|${agentId}|${since}`
  useEffect(() => pager.reset(), [filters])
  const logs = useLoad(
    () =>
      call(
        api.GET('/api/audit-logs', {
          params: {
            query: {
              limit: 50,
              cursor: pager.cursor,
              action: action || undefined,
              agentId: agentId || undefined,
              since: since ? new Date(since).toISOString() : undefined,
            },
          },
        }),
      ),
    [filters, pager.cursor],
  )
  const [actionText, setActionText] = useState(action)
  return (
    <section>
      <PageTitle>Audit log</PageTitle>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault()
          setQuery({ action: actionText.trim() })
        }}
      >
        <Field
          label="Action"
          value={actionText}
          onValue={setActionText}
          placeholder="token_rotated"
          hint="Exact action name; Enter to apply."
        />
        <Select
          label="Agent"
          value={agentId}
          onValue={(v) => setQuery({ agentId: v })}
          options={[['', 'Any agent'], ...agents.options]}
        />
        <Field label="Since" type="datetime-local" value={since} onValue={(v) => setQuery({ since: v })} />
      </form>
      <Notice error={logs.error} />
      {logs.data ? (
        <AuditTable logs={logs.data.logs} controls={pager.controls(logs.data.nextCursor)} />
      ) : null}
    </section>
  )
}
