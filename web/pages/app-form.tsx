import { useId } from 'preact/hooks'
import { Field, Select, TextArea } from '../ui'
import { AllowedAgents } from './allowed-agents'
import {
  type AppFields,
  type AppView,
  AUTH_LABELS,
  AUTH_TYPES,
  type AuthType,
  METHODS,
  type Method,
  secretNeeded,
} from './app-body'
import type { useAgents } from './names'

type Props = {
  fields: AppFields
  set: (f: AppFields) => void
  errors: Record<string, string>
  /** The stored connection when editing: its hint, and whether the secret must be typed again. */
  stored?: AppView | undefined
}

/** The secret's label for each auth type (the one write-only field). */
const SECRET_LABELS: Record<AuthType, string> = {
  bearer: 'Bearer token',
  header: 'Header value',
  basic: 'Password',
  query: 'Query parameter value',
  oauth2_client_credentials: 'Client secret',
}

/** Name, description and where the app lives. */
export function AppBasics({ fields: f, set, errors }: Props) {
  const on = (k: keyof AppFields) => (v: string) => set({ ...f, [k]: v })
  return (
    <fieldset>
      <legend>The app</legend>
      <Field
        label="Name"
        value={f.name}
        onValue={on('name')}
        required
        maxLength={100}
        hint="Unique in the workspace, e.g. crm."
        error={errors.name}
      />
      <Field
        label="Base URL"
        type="url"
        value={f.baseUrl}
        onValue={on('baseUrl')}
        required
        placeholder="https://api.crm.example.com/v2"
        spellcheck={false}
        hint="Every call stays under it: same scheme, host and port, under its path."
        error={errors.baseUrl}
      />
      <TextArea
        label="Description"
        value={f.description}
        onValue={on('description')}
        error={errors.description}
      />
    </fieldset>
  )
}

/** How Switchboard authenticates to the app; the secret is write-only. */
export function AppAuth({ fields: f, set, errors, stored }: Props) {
  const on = (k: keyof AppFields) => (v: string) => set({ ...f, [k]: v })
  const keeping = stored !== undefined && stored.auth.type === f.authType
  const needed = stored ? secretNeeded(stored, f) : null
  const hint = stored?.auth.secretHint
  const secretHint = needed
    ? needed
    : keeping
      ? `Blank keeps the stored secret${hint ? ` (ends in ${hint})` : ''}. Typing one replaces it.`
      : 'Write-only: stored sealed, never shown again. Reads show only its last 4 characters.'
  return (
    <fieldset>
      <legend>Authentication</legend>
      <Select
        label="Auth type"
        value={f.authType}
        onValue={(v) => set({ ...f, authType: v as AuthType })}
        options={AUTH_TYPES.map((t) => [t, AUTH_LABELS[t]])}
        hint={AUTH_HINTS[f.authType]}
      />
      {f.authType === 'header' || f.authType === 'query' ? (
        <Field
          label={f.authType === 'header' ? 'Header name' : 'Query parameter name'}
          value={f.authName}
          onValue={on('authName')}
          required
          spellcheck={false}
          placeholder={f.authType === 'header' ? 'X-Api-Key' : 'api_key'}
          error={errors.authName}
        />
      ) : null}
      {f.authType === 'basic' ? (
        <Field
          label="Username"
          value={f.username}
          onValue={on('username')}
          required
          autoComplete="off"
          spellcheck={false}
          error={errors.username}
        />
      ) : null}
      {f.authType === 'oauth2_client_credentials' ? (
        <>
          <Field
            label="Token URL"
            type="url"
            value={f.tokenUrl}
            onValue={on('tokenUrl')}
            required
            spellcheck={false}
            placeholder="https://auth.example.com/oauth/token"
            error={errors.tokenUrl}
          />
          <Field
            label="Client id"
            value={f.clientId}
            onValue={on('clientId')}
            required
            autoComplete="off"
            spellcheck={false}
            error={errors.clientId}
          />
        </>
      ) : null}
      <Field
        label={SECRET_LABELS[f.authType]}
        type="password"
        value={f.secret}
        onValue={on('secret')}
        required={!keeping || needed !== null}
        autoComplete="new-password"
        spellcheck={false}
        hint={secretHint}
        error={errors.secret}
      />
      {f.authType === 'oauth2_client_credentials' ? (
        <>
          <Field
            label="Scopes"
            value={f.scopes}
            onValue={on('scopes')}
            spellcheck={false}
            hint="Separated by spaces; blank: none asked for."
            error={errors.scopes}
          />
          <Field
            label="Audience"
            value={f.audience}
            onValue={on('audience')}
            spellcheck={false}
            hint="Only if the token endpoint asks for one."
            error={errors.audience}
          />
          <Select
            label="Client authentication"
            value={f.clientAuthMethod}
            onValue={(v) => set({ ...f, clientAuthMethod: v as AppFields['clientAuthMethod'] })}
            options={[
              ['client_secret_basic', 'HTTP Basic (client_secret_basic)'],
              ['client_secret_post', 'In the form body (client_secret_post)'],
            ]}
            error={errors.clientAuthMethod}
          />
        </>
      ) : null}
    </fieldset>
  )
}

const AUTH_HINTS: Record<AuthType, string> = {
  bearer: 'The app receives Authorization: Bearer <token>.',
  header: 'The app receives <header name>: <value>.',
  basic: 'The app receives Authorization: Basic base64(username:password).',
  query: 'The app receives ?<name>=<value> on every call.',
  oauth2_client_credentials:
    'Switchboard gets an access token from the token URL, caches and refreshes it, and sends it as a bearer token.',
}

/** Who may execute, with which methods, on which paths, and how long a call may take. */
export function AppRules({
  fields: f,
  set,
  errors,
  agents,
}: Props & { agents: ReturnType<typeof useAgents> }) {
  const id = useId()
  const toggle = (m: Method, on: boolean) =>
    set({ ...f, methods: on ? [...f.methods, m] : f.methods.filter((x) => x !== m) })
  return (
    <fieldset>
      <legend>Who may call it, and how</legend>
      <AllowedAgents
        legend="Agents that may execute"
        value={f.agents}
        onChange={(agents) => set({ ...f, agents })}
        agents={agents}
        error={errors.agents}
      />
      <fieldset
        class={`methods${errors.methods ? ' invalid' : ''}`}
        aria-describedby={`${id}-methods-hint${errors.methods ? ` ${id}-methods-error` : ''}`}
      >
        <legend>Allowed methods</legend>
        <ul class="method-list">
          {METHODS.map((m) => (
            <li key={m} class="check">
              <input
                type="checkbox"
                id={`${id}-${m}`}
                checked={f.methods.includes(m)}
                onChange={(e) => toggle(m, (e.target as HTMLInputElement).checked)}
              />
              <label for={`${id}-${m}`} class="mono">
                {m}
              </label>
            </li>
          ))}
        </ul>
        <p class="hint" id={`${id}-methods-hint`}>
          None ticked: any method.
        </p>
        {errors.methods ? (
          <p class="error" id={`${id}-methods-error`}>
            {errors.methods}
          </p>
        ) : null}
      </fieldset>
      <TextArea
        label="Allowed path prefixes"
        value={f.prefixes}
        onValue={(prefixes) => set({ ...f, prefixes })}
        rows={3}
        hint="One per line, relative to the base URL's path: /contacts covers /contacts and /contacts/42, not /contactsX. Blank: every path under the base URL."
        error={errors.prefixes}
      />
      <Field
        label="Timeout (milliseconds)"
        type="number"
        min={100}
        max={120000}
        inputMode="numeric"
        value={f.timeoutMs}
        onValue={(timeoutMs) => set({ ...f, timeoutMs })}
        hint="The whole call, answer included, from 100 to 120000. Blank: the server's default (30 s unless SWITCHBOARD_APP_TIMEOUT_MS says otherwise)."
        error={errors.timeoutMs}
      />
    </fieldset>
  )
}
