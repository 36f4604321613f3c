import { useState } from 'preact/hooks'
import { api, call, fieldErrors } from '../api/client'
import { Field, Notice, SecretOnce, Time, TypedConfirm, useSubmit } from '../ui'
import type { Agent } from './agent'

/** The endpoint credential (write-only), the agent token's rotation, and deleting the agent. */
export function AccessTab(props: { agent: Agent; onChange: (a: Agent) => void; onDeleted: () => void }) {
  return (
    <div class="stack">
      <Credential {...props} />
      <Rotate {...props} />
      <section class="panel danger-zone" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete this agent</h2>
        <p>
          Permanent: the agent, its token, its connections and its history go at once. Its permanent id is
          never reused.
        </p>
        <TypedConfirm
          name={props.agent.name}
          action="Delete the agent"
          onConfirm={async () => {
            await call(api.DELETE('/api/agents/{agentId}', { params: { path: { agentId: props.agent.id } } }))
            props.onDeleted()
          }}
        />
      </section>
    </div>
  )
}

function Credential({ agent: a, onChange }: { agent: Agent; onChange: (a: Agent) => void }) {
  const [value, setValue] = useState('')
  const [header, setHeader] = useState('')
  const [ok, setOk] = useState<string | null>(null)
  const path = { params: { path: { agentId: a.id } } }
  const reload = () => call(api.GET('/api/agents/{agentId}', path)).then(onChange)
  const save = useSubmit(async () => {
    setOk(null)
    await call(
      api.PUT('/api/agents/{agentId}/endpoint-credential', {
        ...path,
        body: { endpointCredential: value, endpointAuthHeader: header.trim() || undefined },
      }),
    )
    setValue('')
    await reload()
    setOk('The endpoint credential is stored.')
  })
  const clear = useSubmit(async () => {
    setOk(null)
    await call(api.DELETE('/api/agents/{agentId}/endpoint-credential', path))
    await reload()
    setOk('The endpoint credential is cleared.')
  })
  const errors = fieldErrors(save.error)
  return (
    <section class="panel" aria-labelledby="cred-title">
      <h2 id="cred-title">Endpoint credential</h2>
      <p class="hint">
        Sent by Switchboard to the agent's endpoint on every forwarded call. Write-only: it cannot be read
        back.
      </p>
      <p>
        {a.hasEndpointCredential ? (
          <>
            Stored, ending in <span class="mono">…{a.endpointCredentialHint}</span>, sent in{' '}
            <span class="mono">{a.endpointAuthHeader}</span>.
          </>
        ) : (
          'None stored: calls reach the endpoint without a credential.'
        )}
      </p>
      <form onSubmit={save.submit} class="stack">
        <Field
          label={a.hasEndpointCredential ? 'Replace with a new key' : 'Endpoint API key'}
          type="password"
          value={value}
          onValue={setValue}
          autoComplete="off"
          required
          error={errors.endpointCredential}
        />
        <Field
          label="Header that carries it"
          value={header}
          onValue={setHeader}
          placeholder="Authorization"
          hint="Blank: Authorization: Bearer <key>."
          error={errors.endpointAuthHeader}
        />
        <div class="actions">
          <button type="submit" disabled={save.busy || value === ''}>
            Store the credential
          </button>
          {a.hasEndpointCredential ? (
            <button type="button" class="secondary" disabled={clear.busy} onClick={() => clear.submit()}>
              Clear the credential
            </button>
          ) : null}
        </div>
        <Notice error={save.error ?? clear.error} ok={ok} />
      </form>
    </section>
  )
}

type Rotated = { token: string; previousTokenValidUntil: string | null; expiresAt: string | null }

function Rotate({ agent: a, onChange }: { agent: Agent; onChange: (a: Agent) => void }) {
  const [grace, setGrace] = useState('0')
  const [ttl, setTtl] = useState('')
  const [rotated, setRotated] = useState<Rotated | null>(null)
  const rotate = useSubmit(async () => {
    const r = await call(
      api.POST('/api/agents/{agentId}/rotate-token', {
        params: { path: { agentId: a.id } },
        body: { graceSeconds: Number(grace || 0), ttlSeconds: ttl.trim() ? Number(ttl) : undefined },
      }),
    )
    setRotated(r)
    onChange(await call(api.GET('/api/agents/{agentId}', { params: { path: { agentId: a.id } } })))
  })
  const errors = fieldErrors(rotate.error)
  return (
    <section class="panel" aria-labelledby="token-title">
      <h2 id="token-title">Agent token</h2>
      <p>
        Current token <span class="mono">{a.tokenPrefix ?? '—'}…</span>
        {a.tokenExpiresAt ? (
          <>
            , expires <Time at={a.tokenExpiresAt} />
          </>
        ) : (
          ', does not expire'
        )}
        .
      </p>
      {rotated ? (
        <div class="stack">
          <SecretOnce label="New agent token" value={rotated.token} what="the new token" />
          <p>
            {rotated.previousTokenValidUntil ? (
              <>
                The previous token keeps working until <Time at={rotated.previousTokenValidUntil} />.
              </>
            ) : (
              'The previous token stopped working now.'
            )}
          </p>
          <button type="button" class="secondary" onClick={() => setRotated(null)}>
            Done, I stored it
          </button>
        </div>
      ) : (
        <form onSubmit={rotate.submit} class="stack">
          <Field
            label="Grace for the old token (seconds)"
            type="number"
            min={0}
            max={3600}
            inputMode="numeric"
            value={grace}
            onValue={setGrace}
            hint="0: the old token stops at once. Up to 3600 lets running agents switch over."
            error={errors.graceSeconds}
          />
          <Field
            label="New token lifetime (seconds)"
            type="number"
            min={60}
            inputMode="numeric"
            value={ttl}
            onValue={setTtl}
            hint="Blank: the agent's token lifetime setting."
            error={errors.ttlSeconds}
          />
          <div class="actions">
            <button type="submit" disabled={rotate.busy}>
              Rotate the token
            </button>
          </div>
          <Notice error={rotate.error} />
        </form>
      )}
    </section>
  )
}
