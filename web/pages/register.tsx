import { useState } from 'preact/hooks'
import { api, call, type Schemas } from '../api/client'
import { Link } from '../router'
import { Code, Field, Notice, PageTitle, SecretOnce, useSubmit } from '../ui'
import { bodyOf, emptyFields, errorsFor, localErrors } from './agent-body'
import { BasicFields, MetadataFields, RoutingFields, useAgentForm } from './agent-form'
import { heartbeatCurl } from './agents'

type Registered = Schemas['Agent'] & { token: string }

/** Register Agent (/agents/register): seed 001's form, then the token shown once. */
export function RegisterPage() {
  const [done, setDone] = useState<Registered | null>(null)
  if (done) return <Success agent={done} onAnother={() => setDone(null)} />
  return <RegisterForm onDone={setDone} />
}

function RegisterForm({ onDone }: { onDone: (r: Registered) => void }) {
  const { fields, setFields, errors, setErrors } = useAgentForm(emptyFields())
  const [credential, setCredential] = useState('')
  const [authHeader, setAuthHeader] = useState('')
  const [token, setToken] = useState('')
  const { busy, error, submit, setError } = useSubmit(async () => {
    const local = localErrors(fields)
    setErrors(local)
    if (Object.keys(local).length > 0)
      throw new Error('Some fields need attention; see the messages next to them.')
    try {
      const r = await call(
        api.POST('/api/agents', {
          body: {
            ...bodyOf(fields, 'omit'),
            endpointCredential: credential || undefined,
            endpointAuthHeader: authHeader.trim() || undefined,
            token: token || undefined,
          },
        }),
      )
      setCredential('')
      onDone({ ...r.agent, token: r.token })
    } catch (e) {
      setErrors(errorsFor(e))
      throw e
    }
  })
  const on = (f: typeof fields) => {
    setFields(f)
    if (error) setError(null)
  }
  return (
    <section>
      <PageTitle>Register Agent</PageTitle>
      <p class="lead">
        At minimum, give the agent a name. Everything else is optional and can be changed later on its manage
        page.
      </p>
      <form onSubmit={submit} noValidate class="stack">
        <BasicFields fields={fields} set={on} errors={errors} />
        <MetadataFields fields={fields} set={on} errors={errors} />
        <fieldset>
          <legend>Endpoint credential</legend>
          <p class="hint">
            Direction: Switchboard → your agent. If the endpoint needs a key, store it here: it is encrypted
            (AES-256-GCM) and sent with every call Switchboard forwards to the endpoint. This is not the token
            you get after registering — that one goes the other way, from your agent to Switchboard.
          </p>
          <Field
            label="Endpoint API key"
            type="password"
            value={credential}
            onValue={setCredential}
            autoComplete="off"
            error={errors.endpointCredential}
          />
          <Field
            label="Header that carries it"
            value={authHeader}
            onValue={setAuthHeader}
            placeholder="Authorization"
            hint="Blank: Authorization: Bearer <key>. Another header name sends the key as it is."
            error={errors.endpointAuthHeader}
          />
        </fieldset>
        <details
          class="advanced"
          open={Boolean(
            errors.fallbackAgentId ||
              errors.tokenTtlSeconds ||
              errors.token ||
              Object.keys(errors).some((k) => k.startsWith('protocols')),
          )}
        >
          <summary>Protocols, fallback and token (optional)</summary>
          <RoutingFields fields={fields} set={on} errors={errors} />
          <Field
            label="Pre-generated token"
            type="password"
            value={token}
            onValue={setToken}
            autoComplete="off"
            hint="Only if your runtime already holds a token of its own (at least 32 characters, not starting with tk_ or wk_). Blank: Switchboard generates one."
            error={errors.token}
          />
        </details>
        <Notice error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Registering…' : 'Register Agent'}
          </button>
        </div>
      </form>
    </section>
  )
}

/** The success screen: the token once, with the agent's UUID and permanent id. Gone on reload. */
function Success({ agent, onAnother }: { agent: Registered; onAnother: () => void }) {
  return (
    <section class="success">
      <PageTitle>Agent registered</PageTitle>
      <p class="lead">
        <strong>{agent.name}</strong> is registered. It shows as offline until its runtime sends a heartbeat.
      </p>
      <SecretOnce label="Agent token" value={agent.token} what="the token" />
      <dl class="facts">
        <dt>Agent UUID</dt>
        <dd class="mono">{agent.id}</dd>
        <dt>Permanent id</dt>
        <dd class="mono">{agent.permanentId}</dd>
      </dl>
      <h2>Keep it online</h2>
      <p>Send a heartbeat from the agent's runtime every one to two minutes:</p>
      <Code>{heartbeatCurl(agent.id, agent.token)}</Code>
      <div class="actions">
        <Link href={`/agents/${agent.permanentId}`} class="button">
          Open the agent's manage page
        </Link>
        <button type="button" class="secondary" onClick={onAnother}>
          Register another agent
        </button>
        <Link href="/agents">My Agents</Link>
      </div>
    </section>
  )
}
