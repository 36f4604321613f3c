import { useState } from 'preact/hooks'
import type { Schemas } from '../api/client'
import { Check, Field, Select, TextArea } from '../ui'
import { type AgentFields, emptyFields, PROTOCOLS } from './agent-body'
import { useAgents } from './names'

type Agent = Schemas['Agent']
const PROTOCOL_NAMES = {
  mcp: 'MCP',
  a2a: 'A2A',
  openai: 'OpenAI-compatible',
  anp: 'ANP',
  acp: 'ACP',
} as const

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
  const agents = useAgents()
  const setProtocol = (p: (typeof PROTOCOLS)[number], v: { enabled: boolean; url: string }) =>
    set({ ...f, protocols: { ...f.protocols, [p]: v } })
  const options: [string, string][] = [
    ['', 'No fallback'],
    // A fallback takes calls only while active and not archived: offer those (and keep the current one).
    ...agents.list
      .filter(
        (a) => a.id !== selfId && ((a.status === 'active' && !a.archived) || a.id === f.fallbackAgentId),
      )
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
