import { useState } from 'preact/hooks'
import { api, call, type Schemas } from '../api/client'
import { Field, Notice, PageTitle, useSubmit } from '../ui'

/** Sign-in with a workspace key; it becomes an HttpOnly session cookie, the key is not kept. */
export function SignInPage(props: { ended: boolean; onSignedIn: (s: Schemas['ConsoleSession']) => void }) {
  const [key, setKey] = useState('')
  const { busy, error, submit } = useSubmit(async () => {
    const session = await call(api.POST('/api/session', { body: { key: key.trim() } }))
    setKey('')
    props.onSignedIn(session)
  })
  return (
    <main id="main" class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <PageTitle>
          <span id="sign-in-title">Sign in to Switchboard</span>
        </PageTitle>
        {props.ended ? <p class="notice">Your session has ended. Sign in again to continue.</p> : null}
        <Field
          label="Workspace key"
          type="password"
          value={key}
          onValue={setKey}
          required
          autoComplete="off"
          spellcheck={false}
          placeholder="wk_…"
          hint="The key printed when the workspace was created (or one from Workspace → Keys). It is exchanged for a session and not stored in the browser."
        />
        <Notice error={error} />
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
