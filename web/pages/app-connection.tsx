import { useEffect, useState } from 'preact/hooks'
import { api, call } from '../api/client'
import { Link, navigate } from '../router'
import { Badge, Code, Empty, Notice, PageTitle, Select, Time, TypedConfirm, useLoad, useSubmit } from '../ui'
import {
  AUTH_LABELS,
  appErrorsFor,
  appFieldsOf,
  errorsLeft,
  executeCurl,
  localAppErrors,
  patchBody,
} from './app-body'
import { type AppConnection, callersText, secretText, takeFlash } from './app-connections'
import { AppAuth, AppBasics, AppRules } from './app-form'
import { useAgents } from './names'

/** One app connection (/app-connections/{id}): what it is, how an agent calls it, edit, delete. */
export function AppConnectionPage({ id }: { id: string }) {
  const agents = useAgents()
  const conn = useLoad(() => call(api.GET('/api/app-connections/{id}', { params: { path: { id } } })), [id])
  const [flash] = useState(() => takeFlash(id))
  if (conn.error) {
    return (
      <section>
        <PageTitle>App connection not found</PageTitle>
        <Notice error={conn.error} />
        <p>
          <Link href="/app-connections">Back to App connections</Link>
        </p>
      </section>
    )
  }
  const c = conn.data
  if (!c) return <p class="loading">Loading…</p>
  return (
    <section>
      <p class="crumbs">
        <Link href="/app-connections">App connections</Link> / {c.name}
      </p>
      <div class="title-row">
        <PageTitle>{c.name}</PageTitle>
        <Badge>{AUTH_LABELS[c.auth.type]}</Badge>
      </div>
      {c.description ? <p class="lead">{c.description}</p> : null}
      <Notice ok={flash} />
      <dl class="facts">
        <dt>Connection id</dt>
        <dd class="mono">{c.id}</dd>
        <dt>Base URL</dt>
        <dd class="mono">{c.baseUrl}</dd>
        <dt>Secret</dt>
        <dd>
          {secretText(c)} <span class="muted">(secret version {c.secretVersion})</span>
        </dd>
        <dt>Who may call</dt>
        <dd>{callersText(c, agents)}</dd>
        <dt>Methods</dt>
        <dd>{c.allowedMethods ? c.allowedMethods.join(', ') : 'any'}</dd>
        <dt>Paths</dt>
        <dd class="mono">
          {c.allowedPathPrefixes ? c.allowedPathPrefixes.join(', ') : 'any under the base URL'}
        </dd>
        <dt>Timeout</dt>
        <dd>{c.timeoutMs === null ? "the server's default" : `${c.timeoutMs} ms`}</dd>
        <dt>Updated</dt>
        <dd>
          <Time at={c.updatedAt} />
        </dd>
      </dl>
      <CallIt conn={c} agents={agents} />
      <Edit key={c.id} conn={c} agents={agents} onSaved={conn.set} />
      <section class="panel danger-zone" aria-labelledby="delete-app-title">
        <h2 id="delete-app-title">Delete this app connection</h2>
        <p>Its sealed secret goes with it; agents calling it get 404 from then on.</p>
        <TypedConfirm
          name={c.name}
          action="Delete the app connection"
          onConfirm={async () => {
            await call(api.DELETE('/api/app-connections/{id}', { params: { path: { id: c.id } } }))
            navigate('/app-connections')
          }}
        />
      </section>
    </section>
  )
}

/** How an agent's runtime calls the app: the curl, filled with this connection and an agent it allows. */
function CallIt({ conn: c, agents }: { conn: AppConnection; agents: ReturnType<typeof useAgents> }) {
  const allowed =
    c.allowedAgentIds === null ? agents.list : agents.list.filter((a) => c.allowedAgentIds!.includes(a.id))
  const [agentId, setAgentId] = useState('')
  useEffect(() => {
    if (!allowed.some((a) => a.id === agentId)) setAgentId(allowed[0]?.id ?? '')
  }, [allowed.map((a) => a.id).join(',')])
  return (
    <section class="panel" aria-labelledby="call-title">
      <h2 id="call-title">Call it from an agent</h2>
      {c.allowedAgentIds?.length === 0 ? (
        <Empty title="No agent may call this connection yet.">
          <p>Pick the agents that may execute under “Who may call it, and how” below.</p>
        </Empty>
      ) : agents.loaded && allowed.length === 0 ? (
        <Empty title="This workspace has no agents yet.">
          <p>
            <Link href="/agents/register">Register an agent</Link>: its runtime then calls the app with its
            own token.
          </p>
        </Empty>
      ) : (
        <>
          <p>
            The agent's runtime sends this with its own token; Switchboard checks the call against the rules
            below, adds the credential and answers with the app's status, headers and body.
          </p>
          {allowed.length > 1 ? (
            <Select
              label="As agent"
              value={agentId}
              onValue={setAgentId}
              options={allowed.map((a) => [a.id, `${a.name} (${a.permanentId})`])}
            />
          ) : null}
          <Code>{executeCurl(location.origin, c, agentId || '$AGENT_ID')}</Code>
        </>
      )}
    </section>
  )
}

/** Edit: one PATCH with only what changed; the secret is typed only to replace it. */
function Edit({
  conn,
  agents,
  onSaved,
}: {
  conn: AppConnection
  agents: ReturnType<typeof useAgents>
  onSaved: (c: AppConnection) => void
}) {
  const [fields, setFields] = useState(() => appFieldsOf(conn))
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [saved, setSaved] = useState<string | null>(null)
  const { busy, error, submit, setError } = useSubmit(async () => {
    setSaved(null)
    const local = localAppErrors(fields, 'edit')
    setErrors(local)
    if (Object.keys(local).length > 0)
      throw new Error('Some fields need attention; see the messages next to them.')
    const body = patchBody(conn, fields)
    if (Object.keys(body).length === 0) {
      setSaved('Nothing to save: every field is as stored.')
      return
    }
    try {
      const updated = await call(
        api.PATCH('/api/app-connections/{id}', { params: { path: { id: conn.id } }, body }),
      )
      setFields(appFieldsOf(updated))
      setSaved(
        updated.secretVersion !== conn.secretVersion
          ? `Saved. The auth changed: secret ${secretText(updated)}, secret version ${updated.secretVersion}.`
          : 'Saved.',
      )
      onSaved(updated)
    } catch (e) {
      setErrors(appErrorsFor(e))
      throw e
    }
  })
  const on = (f: typeof fields) => {
    setErrors(errorsLeft(errors, fields, f))
    setFields(f)
    if (error) setError(null)
  }
  return (
    <section class="edit-app" aria-labelledby="edit-app-title">
      <h2 id="edit-app-title">Edit {conn.name}</h2>
      <form onSubmit={submit} noValidate class="stack">
        <AppBasics fields={fields} set={on} errors={errors} stored={conn} />
        <AppAuth fields={fields} set={on} errors={errors} stored={conn} />
        <AppRules fields={fields} set={on} errors={errors} stored={conn} agents={agents} />
        <Notice error={error} ok={saved} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </section>
  )
}
