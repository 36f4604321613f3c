import { useState } from 'preact/hooks'
import { api, call, type Schemas } from '../api/client'
import { Link, navigate } from '../router'
import { Badge, Code, Empty, Notice, PageTitle, Time, useLoad, usePager, useSubmit } from '../ui'
import {
  AUTH_LABELS,
  appErrorsFor,
  createBody,
  emptyAppFields,
  errorsLeft,
  executeCurl,
  localAppErrors,
} from './app-body'
import { AppAuth, AppBasics, AppRules } from './app-form'
import { useAgents } from './names'

export type AppConnection = Schemas['AppConnection']

/** What the next screen says about the change just made (a created connection's hint). */
let flash: { id: string; text: string } | null = null
export function takeFlash(id: string) {
  const f = flash?.id === id ? flash.text : null
  flash = null
  return f
}
export function setFlash(id: string, text: string) {
  flash = { id, text }
}

/** The secret as reads show it: its last 4 characters, never more. */
export function secretText(c: AppConnection) {
  return c.auth.secretHint ? `ends in ${c.auth.secretHint}` : 'stored (too short for a hint)'
}

/** Who may execute, in a few words. */
export function callersText(c: AppConnection, agents: ReturnType<typeof useAgents>) {
  const ids = c.allowedAgentIds
  if (ids === null) return 'any agent'
  if (ids.length === 0) return 'no agent (closed)'
  const names = ids.map((id) => agents.list.find((a) => a.id === id)?.name ?? id)
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ')
}

/** App connections: third-party APIs the agents call through Switchboard, the credential kept here. */
export function AppConnectionsPage() {
  const agents = useAgents()
  const pager = usePager()
  const list = useLoad(
    () => call(api.GET('/api/app-connections', { params: { query: { limit: 50, cursor: pager.cursor } } })),
    [pager.cursor],
  )
  const rows = list.data?.appConnections
  return (
    <section>
      <div class="title-row">
        <PageTitle>App connections</PageTitle>
        <Link href="/app-connections/new" class="button">
          New app connection
        </Link>
      </div>
      <p class="lead">
        Third-party APIs your agents may call through Switchboard. The app's credential stays here, sealed; an
        allowed agent asks Switchboard to execute a call, and Switchboard adds the credential and hands back
        the answer.
      </p>
      <Notice error={list.error} />
      {rows && rows.length === 0 && !pager.cursor ? (
        <Empty title="No app connections yet.">
          <p>
            <Link href="/app-connections/new">Add one</Link> with the app's base URL and its credential (a
            bearer token, an API key in a header or the query string, Basic, or OAuth2 client credentials).
            Then an allowed agent calls it with its own token, never seeing the app's secret:
          </p>
          <Code>
            {executeCurl(
              location.origin,
              { id: '$CONNECTION_ID', allowedMethods: null, allowedPathPrefixes: ['/contacts'] },
              '$AGENT_ID',
              '$AGENT_TOKEN',
            )}
          </Code>
          <p class="hint">
            The answer is the app's own status, headers and body:{' '}
            <span class="mono">{'{"status": 200, …}'}</span>. Each connection's page shows this command with
            its id filled in.
          </p>
        </Empty>
      ) : null}
      {rows && rows.length > 0 ? (
        <table class="rows">
          <caption class="visually-hidden">App connections</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Base URL</th>
              <th scope="col">Auth</th>
              <th scope="col">Who may call</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id} data-app={c.id}>
                <td data-label="Name">
                  <Link href={`/app-connections/${c.id}`}>{c.name}</Link>
                </td>
                <td data-label="Base URL" class="mono small">
                  {c.baseUrl}
                </td>
                <td data-label="Auth">
                  {AUTH_LABELS[c.auth.type]}{' '}
                  <span class="muted small">
                    secret {secretText(c)}, version {c.secretVersion}
                  </span>
                </td>
                <td data-label="Who may call">
                  {c.allowedAgentIds?.length === 0 ? (
                    <Badge tone="warn">{callersText(c, agents)}</Badge>
                  ) : (
                    callersText(c, agents)
                  )}
                  {c.allowedMethods ? (
                    <span class="muted small"> · only {c.allowedMethods.join(', ')}</span>
                  ) : null}
                </td>
                <td data-label="Updated">
                  <Time at={c.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {list.data ? pager.controls(list.data.nextCursor) : null}
    </section>
  )
}

/** A new app connection: the app, its auth (the secret write-only), and who may call it. */
export function NewAppConnectionPage() {
  const agents = useAgents()
  const [fields, setFields] = useState(emptyAppFields())
  const [errors, setErrors] = useState<Record<string, string>>({})
  const { busy, error, submit, setError } = useSubmit(async () => {
    const local = localAppErrors(fields, 'create')
    setErrors(local)
    if (Object.keys(local).length > 0)
      throw new Error('Some fields need attention; see the messages next to them.')
    try {
      const c = await call(api.POST('/api/app-connections', { body: createBody(fields) }))
      setFields(emptyAppFields())
      setFlash(
        c.id,
        `Created ${c.name}. Its secret is stored sealed and ${secretText(c)} (secret version ${c.secretVersion}); it will not be shown again.`,
      )
      navigate(`/app-connections/${c.id}`)
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
    <section>
      <p class="crumbs">
        <Link href="/app-connections">App connections</Link> / new
      </p>
      <PageTitle>New app connection</PageTitle>
      <form onSubmit={submit} noValidate class="stack">
        <AppBasics fields={fields} set={on} errors={errors} />
        <AppAuth fields={fields} set={on} errors={errors} />
        <AppRules fields={fields} set={on} errors={errors} agents={agents} />
        <Notice error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create app connection'}
          </button>
          <Link href="/app-connections">Cancel</Link>
        </div>
      </form>
    </section>
  )
}
