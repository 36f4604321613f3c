import { type ApiError, fieldErrors } from '../api/errors'

/** The agent forms' data: what they hold, what they send, where the server's errors land. */
export const PROTOCOLS = ['mcp', 'a2a', 'openai', 'anp', 'acp'] as const

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
