import { useState } from 'preact/hooks'
import { api, call, fieldErrors } from '../api/client'
import { Field, Notice, PageTitle, SecretOnce, Time, useAction, useLoad, useSubmit } from '../ui'

/** Workspace keys (the secret shown once; revoke) and the webhook signing secret (reveal, rotate). */
export function WorkspacePage() {
  const keys = useLoad(() => call(api.GET('/api/workspace/keys', { params: { query: { limit: 100 } } })), [])
  const [name, setName] = useState('')
  const [expires, setExpires] = useState('')
  const [created, setCreated] = useState<string | null>(null)
  const create = useSubmit(async () => {
    const r = await call(
      api.POST('/api/workspace/keys', {
        body: { name: name.trim(), expiresInSeconds: expires.trim() ? Number(expires) : undefined },
      }),
    )
    setCreated(r.apiKey)
    setName('')
    setExpires('')
    keys.reload()
  })
  const revoke = useAction()
  const errors = fieldErrors(create.error)
  return (
    <section>
      <PageTitle>Workspace</PageTitle>
      <section class="panel" aria-labelledby="keys-title">
        <h2 id="keys-title">Keys</h2>
        <p class="hint">
          A workspace key may do everything in this workspace. Revoking one ends its console sessions too.
        </p>
        <Notice error={keys.error ?? revoke.error} />
        {keys.data ? (
          <table class="rows">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.keys.map((k) => (
                <tr key={k.id}>
                  <td data-label="Name">{k.name}</td>
                  <td data-label="Key" class="mono">
                    {k.prefix}…
                  </td>
                  <td data-label="Last used">
                    <Time at={k.lastUsedAt} />
                  </td>
                  <td data-label="Expires">{k.expiresAt ? <Time at={k.expiresAt} /> : 'never'}</td>
                  <td data-label="Actions">
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Revoke the key ${k.name}`}
                      disabled={revoke.busy}
                      onClick={() =>
                        revoke.run(async () => {
                          await call(
                            api.DELETE('/api/workspace/keys/{id}', { params: { path: { id: k.id } } }),
                          )
                          keys.reload()
                        })
                      }
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {created ? (
          <div class="stack">
            <SecretOnce label="New workspace key" value={created} what="the key" />
            <button type="button" class="secondary" onClick={() => setCreated(null)}>
              Done, I stored it
            </button>
          </div>
        ) : (
          <form onSubmit={create.submit} class="inline-form">
            <Field label="New key name" value={name} onValue={setName} required error={errors.name} />
            <Field
              label="Expires after (seconds)"
              type="number"
              min={1}
              value={expires}
              onValue={setExpires}
              hint="Blank: never."
              error={errors.expiresInSeconds}
            />
            <div class="actions">
              <button type="submit" disabled={create.busy || !name.trim()}>
                Create key
              </button>
            </div>
            <Notice error={create.error} />
          </form>
        )}
      </section>
      <WebhookSecret />
    </section>
  )
}

function WebhookSecret() {
  const [secret, setSecret] = useState<string | null>(null)
  const reveal = useSubmit(async () =>
    setSecret((await call(api.GET('/api/workspace/webhook-secret'))).secret),
  )
  const rotate = useSubmit(async () =>
    setSecret((await call(api.POST('/api/workspace/webhook-secret/rotate', { body: {} }))).secret),
  )
  return (
    <section class="panel" aria-labelledby="whsec-title">
      <h2 id="whsec-title">Webhook signing secret</h2>
      <p class="hint">
        Signs job callbacks (Standard Webhooks). After a rotation the old secret still signs beside the new
        one for 24 h.
      </p>
      {secret ? (
        <div class="secret-row">
          <label class="visually-hidden" for="whsec">
            Webhook signing secret
          </label>
          <input id="whsec" readOnly class="mono" value={secret} />
          <button type="button" class="secondary" onClick={() => setSecret(null)}>
            Hide
          </button>
        </div>
      ) : null}
      <div class="actions">
        {secret ? null : (
          <button type="button" class="secondary" disabled={reveal.busy} onClick={() => reveal.submit()}>
            Reveal
          </button>
        )}
        <button type="button" class="secondary" disabled={rotate.busy} onClick={() => rotate.submit()}>
          Rotate
        </button>
      </div>
      <Notice error={reveal.error ?? rotate.error} />
    </section>
  )
}
