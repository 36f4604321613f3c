import { Fragment } from 'preact'
import { useState } from 'preact/hooks'
import { api, call } from '../api/client'
import { useLiveEvents } from '../live'
import { setQuery, useLocation } from '../router'
import { Badge, Empty, Notice, PageTitle, Select, Time, useAction, useLoad, usePager } from '../ui'
import { useAgents } from './names'

type Status = 'running' | 'completed' | 'failed'

/** Async jobs, live: status, the result or error, and clearing a job. */
export function JobsPage() {
  const { query } = useLocation()
  const status = (query.get('status') ?? '') as Status | ''
  const agents = useAgents()
  const pager = usePager()
  const list = useLoad(
    () =>
      call(
        api.GET('/api/jobs', {
          params: { query: { limit: 25, cursor: pager.cursor, status: status || undefined } },
        }),
      ),
    [status, pager.cursor],
  )
  useLiveEvents(['job.*'], () => list.reload())
  const [open, setOpen] = useState<string | null>(null)
  const action = useAction()
  const clear = (id: string) =>
    action.run(async () => {
      await call(api.DELETE('/api/jobs/{jobId}', { params: { path: { jobId: id } } }))
      list.reload()
    })
  return (
    <section>
      <PageTitle>Jobs</PageTitle>
      <p class="lead">
        Calls made on the async lane. The list updates as jobs are created, completed or failed.
      </p>
      <div class="filters">
        <Select
          label="Status"
          value={status}
          onValue={(v) => setQuery({ status: v })}
          options={[
            ['', 'Any'],
            ['running', 'Running'],
            ['completed', 'Completed'],
            ['failed', 'Failed'],
          ]}
        />
      </div>
      <Notice error={list.error ?? action.error} />
      {list.data && list.data.jobs.length === 0 ? (
        <Empty title={status ? `No ${status} jobs.` : 'No jobs yet.'}>
          <p>
            An agent creates one with <span class="mono">POST /api/proxy/{'{connectionId}'}/async</span> and
            its token.
          </p>
        </Empty>
      ) : null}
      {list.data && list.data.jobs.length > 0 ? (
        <table class="rows">
          <caption class="visually-hidden">Jobs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
              <th scope="col">Caller → target</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.data.jobs.map((j) => (
              <Fragment key={j.id}>
                <tr>
                  <td data-label="Job" class="mono small">
                    {j.id}
                  </td>
                  <td data-label="Status">
                    <Badge tone={j.status === 'completed' ? 'good' : j.status === 'failed' ? 'bad' : 'warn'}>
                      {j.status}
                    </Badge>
                  </td>
                  <td data-label="Caller → target">
                    {j.callerAgentId ? agents.name(j.callerAgentId) : 'trigger'} →{' '}
                    {agents.name(j.targetAgentId)}
                  </td>
                  <td data-label="Created">
                    <Time at={j.createdAt} />
                  </td>
                  <td data-label="Actions" class="row-actions">
                    <button
                      type="button"
                      class="secondary"
                      aria-expanded={open === j.id}
                      aria-controls={`job-${j.id}`}
                      onClick={() => setOpen(open === j.id ? null : j.id)}
                    >
                      {open === j.id ? 'Hide result' : 'Show result'}
                    </button>
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Clear job ${j.id}`}
                      onClick={() => clear(j.id)}
                    >
                      Clear
                    </button>
                  </td>
                </tr>
                {open === j.id ? (
                  <tr id={`job-${j.id}`} class="detail">
                    <td colSpan={5}>
                      {j.error ? <p class="error">{j.error}</p> : null}
                      {j.httpStatus ? <p>Agent answered HTTP {j.httpStatus}.</p> : null}
                      <pre class="payload">
                        {j.result === null || j.result === undefined
                          ? 'No result yet.'
                          : JSON.stringify(j.result, null, 2)}
                      </pre>
                      {j.callback ? (
                        <p>
                          Callback: <Badge>{j.callback.status}</Badge> after {j.callback.attempts} attempt(s)
                        </p>
                      ) : null}
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      ) : null}
      {list.data ? pager.controls(list.data.nextCursor) : null}
    </section>
  )
}
