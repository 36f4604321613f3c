import pkg from '../../../package.json'

const DESCRIPTION = `Self-hosted registry and gateway for AI agents: agents register, get a machine token,
report presence and call each other through authenticated proxy lanes; owners watch it all
live over a WebSocket.

**Credentials** go in \`Authorization: Bearer …\`: the admin token (\`SWITCHBOARD_ADMIN_TOKEN\`)
creates workspaces, a workspace key (\`wk_…\`, also as \`x-api-key\`) does everything inside its
workspace, an agent token (\`tk_…\`) acts as that one agent. Secrets are shown once.

**Errors** are always the \`Error\` schema, \`{ error, code, details? }\`, with a stable
snake_case \`code\`. Another workspace's object is a 404, never a 403.

**Lists** take \`?limit=\` (1–500, default 50) and \`?cursor=\`, and answer \`nextCursor\`
(null on the last page).

**Live events**: \`GET /api/ws\` upgrades to a WebSocket of \`{id, type, at, data}\` frames;
reconnect with \`?since=<last id>\` to lose nothing. A TypeScript client for agent runtimes
is in the repository's \`sdk/\`.`

/** The license named in package.json; an SPDX id is published as such (UNLICENSED is npm's "none granted"). */
const license =
  pkg.license === 'UNLICENSED' ? { name: 'UNLICENSED' } : { name: pkg.license, identifier: pkg.license }

export const DOCUMENT_INFO = {
  title: 'Switchboard',
  version: pkg.version,
  summary: 'Registry and gateway for AI agents',
  description: DESCRIPTION,
  license,
}

export const TAGS = [
  { name: 'workspaces', description: 'Workspaces, their keys and their callback signing secret' },
  { name: 'agents', description: 'The agent registry and token lifecycle' },
  { name: 'presence', description: 'Heartbeats and presence' },
  { name: 'health', description: 'Scheduled health checks of agent endpoints' },
  { name: 'messages', description: 'Agent-to-agent messages with channels and TTL' },
  { name: 'commands', description: 'Remote commands, pushed over the WebSocket and acknowledged' },
  { name: 'live', description: 'The live event stream (WebSocket)' },
  { name: 'audit', description: 'Audit logs' },
  { name: 'connections', description: 'Lines between two agents' },
  { name: 'broadcast-groups', description: 'Groups of agents a broadcast fans out to' },
  { name: 'pools', description: 'Load-balanced pools of agents with priorities' },
  { name: 'proxy', description: 'The proxy lanes: sync, async, broadcast, pool (agent tokens)' },
  { name: 'jobs', description: 'Async jobs: poll, list, clear, report the outcome; signed callbacks' },
  {
    name: 'webhooks',
    description: 'Agent webhooks: the events that concern an agent, pushed to its webhookUrl',
  },
  {
    name: 'triggers',
    description: 'Webhook triggers: outside systems start an agent’s job through POST /hooks/{id}',
  },
  {
    name: 'apps',
    description:
      'App connections: third-party APIs an agent calls through Switchboard, which holds the credential',
  },
  {
    name: 'relays',
    description:
      'External relays (no token): A2A, MCP and OpenAI clients reach agents that allow external invocation',
  },
  { name: 'teams', description: 'Team-scoped aliases (the team is the workspace)' },
  { name: 'service', description: 'Health, readiness, metrics and this document' },
  { name: 'console', description: 'Console sign-in: a session cookie that acts as a workspace key' },
]

export const ERROR_HEADERS = {
  SwitchboardError: {
    description:
      "The error's code. Set on every error Switchboard itself answers, never on an agent's answer " +
      'passed through a proxy lane, so a client can tell the two apart.',
    schema: { type: 'string' },
  },
}

export const SECURITY_SCHEMES = {
  adminToken: { type: 'http', scheme: 'bearer', description: 'SWITCHBOARD_ADMIN_TOKEN' },
  workspaceKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'A workspace key (wk_…); x-api-key also works',
  },
  agentToken: { type: 'http', scheme: 'bearer', description: 'An agent token (tk_… or pre-generated)' },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'SWITCHBOARD_METRICS_TOKEN: only for GET /metrics, and only when it is set',
  },
  consoleSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'sb_session',
    description:
      'A console sign-in (POST /api/session); `__Host-sb_session` over HTTPS. Acts as the workspace key it ' +
      'was opened with; state-changing requests must come from the console’s own origin',
  },
}
