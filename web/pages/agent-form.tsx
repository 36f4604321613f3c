import { useState } from 'preact/hooks'
import { type ApiError, api, call, fieldErrors, type Schemas } from '../api/client'
import { Check, Field, Select, TextArea, useLoad } from '../ui'

type Agent = Schemas['Agent']
export const PROTOCOLS = ['mcp', 'a2a', 'openai', 'anp', 'acp'] as const
const PROTOCOL_NAMES = {
  mcp: 'MCP',
  a2a: 'A2A',
  openai: 'OpenAI-compatible',
  anp: 'ANP',
  acp: 'ACP',
} as const

/** The editable fields of an agent as the form holds them: text as typed. */
export type AgentFields = {
  name: string
  description: string
  endpointUrl: string
  webhookUrl: string
  version: string
  license: string
  programmingLanguage: string
  languagesSupported: string
  framework: string
  label: string
  capabilities: { name: string; metadata: string }[]
  protocols: Record<(typeof PROTOCOLS)[number], { enabled: boolean; url: string }>
  externalInvocation: boolean
  fallbackAgentId: string
  tokenTtlSeconds: string
}

export function emptyFields(): AgentFields {
  return {
    name: '',
    description: '',
    endpointUrl: '',
    webhookUrl: '',
    version: '',
    license: '',
    programmingLanguage: '',
    languagesSupported: '',
    framework: '',
    label: '',
    capabilities: [],
    protocols: Object.fromEntries(
      PROTOCOLS.map((p) => [p, { enabled: false, url: '' }]),
    ) as AgentFields['protocols'],
    externalInvocation: false,
    fallbackAgentId: '',
    tokenTtlSeconds: '',
  }
}

export function fieldsOf(a: Agent): AgentFields {
  const f = emptyFields()
  for (const p of PROTOCOLS) {
    const v = a.protocols[p]
    if (v) f.protocols[p] = { enabled: v.enabled, url: v.url ?? '' }
  }
  return {
    ...f,
    name: a.name,
    description: a.description ?? '',
    endpointUrl: a.endpointUrl ?? '',
    webhookUrl: a.webhookUrl ?? '',
    version: a.version ?? '',
    license: a.license ?? '',
    programmingLanguage: a.programmingLanguage ?? '',
    languagesSupported: a.languagesSupported.join(', '),
    framework: a.framework ?? '',
    label: a.label ?? '',
    capabilities: a.capabilities.map((c) => ({
      name: c.name,
      metadata: Object.keys(c.metadata).length ? JSON.stringify(c.metadata) : '',
    })),
    externalInvocation: a.externalInvocation,
    fallbackAgentId: a.fallbackAgentId ?? '',
    tokenTtlSeconds: a.tokenTtlSeconds === null ? '' : String(a.tokenTtlSeconds),
  }
}

/** Problems the browser can see before asking the server: metadata that is not a JSON object. */
export function localErrors(f: AgentFields): Record<string, string> {
  const out: Record<string, string> = {}
  f.capabilities.forEach((c, i) => {
    if (!c.metadata.trim()) return
    try {
      const v = JSON.parse(c.metadata)
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error()
    } catch {
      out[`capabilities.${i}.metadata`] = 'must be a JSON object, e.g. {"model": "A100"}'
    }
  })
  return out
}

/**
 * The request body. `empty` says what a blank field means: left out (registration) or
 * cleared (an update sends null).
 */
export function bodyOf(f: AgentFields, empty: 'omit' | 'null') {
  const text = (v: string) => (v.trim() === '' ? (empty === 'omit' ? undefined : null) : v.trim())
  const protocols = Object.fromEntries(
    PROTOCOLS.filter((p) => empty === 'null' || f.protocols[p].enabled || f.protocols[p].url).map((p) => [
      p,
      { enabled: f.protocols[p].enabled, url: f.protocols[p].url.trim() || null },
    ]),
  )
  return {
    name: f.name.trim(),
    description: text(f.description),
    endpointUrl: text(f.endpointUrl),
    webhookUrl: text(f.webhookUrl),
    version: text(f.version),
    license: text(f.license),
    programmingLanguage: text(f.programmingLanguage),
    languagesSupported: f.languagesSupported
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    framework: text(f.framework),
    label: text(f.label),
    capabilities: f.capabilities
      .filter((c) => c.name.trim() || c.metadata.trim())
      .map((c) => ({
        name: c.name.trim(),
        ...(c.metadata.trim() ? { metadata: JSON.parse(c.metadata) } : {}),
      })),
    protocols,
    externalInvocation: f.externalInvocation,
    fallbackAgentId: f.fallbackAgentId || (empty === 'omit' ? undefined : null),
    tokenTtlSeconds:
      f.tokenTtlSeconds.trim() === '' ? (empty === 'omit' ? undefined : null) : Number(f.tokenTtlSeconds),
  }
}

const FIELD_NAMES = [
  'name',
  'description',
  'endpointUrl',
  'webhookUrl',
  'version',
  'license',
  'programmingLanguage',
  'languagesSupported',
  'framework',
  'label',
  'capabilities',
  'fallbackAgentId',
  'tokenTtlSeconds',
  'endpointCredential',
  'endpointAuthHeader',
  'token',
]

/**
 * Messages for the fields the server refused. Validation names its paths; a rule checked
 * later (a refused URL, an unknown fallback) names the field at the start of its sentence.
 */
export function errorsFor(e: unknown): Record<string, string> {
  const out = fieldErrors(e)
  if (Object.keys(out).length === 0 && e && typeof e === 'object' && 'message' in e) {
    const msg = (e as ApiError).message
    const field = FIELD_NAMES.find((n) => msg.startsWith(`${n} `))
    if (field) out[field] = msg
  }
  // Array items point at the list's own field when the form shows the list as one input.
  for (const k of Object.keys(out)) {
    const m = /^languagesSupported\.\d+$/.exec(k)
    if (m) out.languagesSupported ??= out[k]!
  }
  return out
}

type Props = {
  fields: AgentFields
  set: (f: AgentFields) => void
  errors: Record<string, string>
  selfId?: string
}

/** Basic details, as seed 001 groups them: the name and where the agent lives. */
export function BasicFields({ fields: f, set, errors }: Props) {
  const on = (k: keyof AgentFields) => (v: string) => set({ ...f, [k]: v })
  return (
    <fieldset>
      <legend>Basic details</legend>
      <Field
        label="Agent name"
        value={f.name}
        onValue={on('name')}
        required
        maxLength={100}
        error={errors.name}
      />
      <Field
        label="Endpoint URL"
        type="url"
        value={f.endpointUrl}
        onValue={on('endpointUrl')}
        placeholder="https://agent.example.com/run"
        hint="Where Switchboard delivers calls to your agent. Leave blank if it has no public URL; you can add it later."
        error={errors.endpointUrl}
      />
      <Field
        label="Webhook URL"
        type="url"
        value={f.webhookUrl}
        onValue={on('webhookUrl')}
        hint="Receives platform events (connection requests, status). Only for custom servers; LLM endpoints do not need it."
        error={errors.webhookUrl}
      />
      <Field
        label="Version"
        value={f.version}
        onValue={on('version')}
        placeholder="1.0"
        error={errors.version}
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

/** Metadata: discoverability and compatibility; all optional. */
export function MetadataFields({ fields: f, set, errors }: Props) {
  const on = (k: keyof AgentFields) => (v: string) => set({ ...f, [k]: v })
  const caps = f.capabilities
  const setCap = (i: number, c: { name: string; metadata: string }) =>
    set({ ...f, capabilities: caps.map((x, j) => (j === i ? c : x)) })
  return (
    <fieldset>
      <legend>Metadata</legend>
      <Field
        label="License"
        value={f.license}
        onValue={on('license')}
        hint="An SPDX identifier, e.g. MIT"
        error={errors.license}
      />
      <Field
        label="Programming language"
        value={f.programmingLanguage}
        onValue={on('programmingLanguage')}
        error={errors.programmingLanguage}
      />
      <Field
        label="Languages supported"
        value={f.languagesSupported}
        onValue={on('languagesSupported')}
        hint="Natural languages, separated by commas: en, de, fr"
        error={errors.languagesSupported}
      />
      <Field
        label="Framework"
        value={f.framework}
        onValue={on('framework')}
        hint="LangChain, crewAI, BeeAI, …"
        error={errors.framework}
      />
      <Field
        label="Label"
        value={f.label}
        onValue={on('label')}
        hint="An environment label, e.g. production"
        error={errors.label}
      />
      <fieldset class="group">
        <legend>Capabilities</legend>
        {errors.capabilities ? <p class="error">{errors.capabilities}</p> : null}
        {caps.map((c, i) => (
          <div class="cap-row" key={i}>
            <Field
              label={`Capability ${i + 1} name`}
              value={c.name}
              onValue={(v) => setCap(i, { ...c, name: v })}
              error={errors[`capabilities.${i}.name`]}
            />
            <Field
              label={`Capability ${i + 1} metadata (JSON)`}
              value={c.metadata}
              onValue={(v) => setCap(i, { ...c, metadata: v })}
              placeholder='{"model": "A100"}'
              class="mono"
              error={errors[`capabilities.${i}.metadata`]}
            />
            <button
              type="button"
              class="secondary"
              onClick={() => set({ ...f, capabilities: caps.filter((_, j) => j !== i) })}
            >
              Remove capability {i + 1}
            </button>
          </div>
        ))}
        <button
          type="button"
          class="secondary"
          onClick={() => set({ ...f, capabilities: [...caps, { name: '', metadata: '' }] })}
        >
          Add a capability
        </button>
      </fieldset>
    </fieldset>
  )
}

/** Protocols with their URLs, external invocation, the fallback agent and the token lifetime. */
export function RoutingFields({ fields: f, set, errors, selfId }: Props) {
  const agents = useLoad(() => call(api.GET('/api/agents', { params: { query: { limit: 200 } } })), [])
  const setProtocol = (p: (typeof PROTOCOLS)[number], v: { enabled: boolean; url: string }) =>
    set({ ...f, protocols: { ...f.protocols, [p]: v } })
  const options: [string, string][] = [
    ['', 'No fallback'],
    ...(agents.data?.agents ?? [])
      .filter((a) => a.id !== selfId)
      .map((a): [string, string] => [a.id, `${a.name} (${a.permanentId})`]),
  ]
  return (
    <fieldset>
      <legend>Protocols and routing</legend>
      <fieldset class="group">
        <legend>Protocols</legend>
        <p class="hint">
          Enable the protocols the agent speaks; a URL overrides the endpoint URL for that protocol.
        </p>
        {PROTOCOLS.map((p) => (
          <div class="protocol-row" key={p}>
            <Check
              label={`${PROTOCOL_NAMES[p]} enabled`}
              checked={f.protocols[p].enabled}
              onChange={(enabled) => setProtocol(p, { ...f.protocols[p], enabled })}
            />
            <Field
              label={`${PROTOCOL_NAMES[p]} URL`}
              type="url"
              value={f.protocols[p].url}
              onValue={(url) => setProtocol(p, { ...f.protocols[p], url })}
              error={errors[`protocols.${p}.url`] ?? errors[`protocols.${p}`]}
            />
          </div>
        ))}
      </fieldset>
      <Check
        label="External invocation"
        checked={f.externalInvocation}
        onChange={(externalInvocation) => set({ ...f, externalInvocation })}
        hint="Outside A2A, MCP and OpenAI-compatible clients may reach the agent through /relay/{permanent id}/… without a token, for the enabled protocols."
      />
      <Select
        label="Fallback agent"
        value={f.fallbackAgentId}
        onValue={(fallbackAgentId) => set({ ...f, fallbackAgentId })}
        options={options}
        hint="Takes calls while this agent is offline."
        error={errors.fallbackAgentId}
      />
      <Field
        label="Token lifetime (seconds)"
        type="number"
        min={60}
        inputMode="numeric"
        value={f.tokenTtlSeconds}
        onValue={(tokenTtlSeconds) => set({ ...f, tokenTtlSeconds })}
        hint="Blank: the token does not expire. Applies to tokens issued from now on."
        error={errors.tokenTtlSeconds}
      />
    </fieldset>
  )
}

/** Form state with its field errors, for the register and settings forms. */
export function useAgentForm(initial: AgentFields) {
  const [fields, setFields] = useState(initial)
  const [errors, setErrors] = useState<Record<string, string>>({})
  return { fields, setFields, errors, setErrors }
}
