import { useState } from 'preact/hooks'
import { api, call, fieldErrors, type Schemas } from '../api/client'
import { useLiveEvents } from '../live'
import { Badge, Empty, Field, Notice, Select, TextArea, Time, useLoad, useSubmit } from '../ui'
import type { Agent } from './agent'
import { useAgents } from './names'

const ACTIONS = ['status', 'restart', 'stop', 'expose', 'reach'] as const
const TYPES = ['request', 'response', 'event', 'broadcast'] as const

/** The agent's inbox and its commands, both live; send a message as it, or a command to it. */
export function MessagesTab({ agent: a }: { agent: Agent }) {
  const agents = useAgents()
  const path = { agentId: a.id }
  const inbox = useLoad(
    () =>
      call(
        api.GET('/api/agents/{agentId}/messages', {
          params: { path, query: { unreadOnly: 'false', limit: 50 } },
        }),
      ),
    [a.id],
  )
  const commands = useLoad(
    () => call(api.GET('/api/agents/{agentId}/commands', { params: { path, query: { limit: 50 } } })),
    [a.id],
  )
  useLiveEvents(['message.received'], (e) => {
    if ((e.data as { agentId?: string }).agentId === a.id) inbox.reload()
  })
  useLiveEvents(['command.*'], (e) => {
    if ((e.data as { agentId?: string }).agentId === a.id) commands.reload()
  })
  const unread = inbox.data?.messages.filter((m) => !m.readAt).map((m) => m.id) ?? []
  const markRead = useSubmit(async () => {
    await call(
      api.POST('/api/agents/{agentId}/messages/read', { params: { path }, body: { messageIds: unread } }),
    )
    inbox.reload()
  })
  return (
    <div class="stack">
      <section class="panel" aria-labelledby="inbox-title">
        <h2 id="inbox-title">Inbox</h2>
        <Notice error={inbox.error ?? markRead.error} />
        {inbox.data && inbox.data.messages.length === 0 ? (
          <Empty title="No messages for this agent." />
        ) : null}
        {inbox.data && inbox.data.messages.length > 0 ? (
          <ul class="messages">
            {inbox.data.messages.map((m) => (
              <li key={m.id}>
                <div class="meta">
                  <Badge>{m.type}</Badge>
                  {m.channel ? <Badge>#{m.channel}</Badge> : null}
                  {m.readAt ? null : <Badge tone="warn">unread</Badge>}
                  <Time at={m.createdAt} />
                  <span class="muted small">from {m.from ? agents.name(m.from) : 'the workspace'}</span>
                </div>
                <pre class="payload">{JSON.stringify(m.payload, null, 2)}</pre>
              </li>
            ))}
          </ul>
        ) : null}
        {unread.length > 0 ? (
          <button type="button" class="secondary" disabled={markRead.busy} onClick={() => markRead.submit()}>
            Mark {unread.length} as read
          </button>
        ) : null}
      </section>
      <SendMessage agent={a} agents={agents} />
      <section class="panel" aria-labelledby="commands-title">
        <h2 id="commands-title">Commands</h2>
        <Notice error={commands.error} />
        {commands.data && commands.data.commands.length === 0 ? (
          <Empty title="No commands sent yet." />
        ) : null}
        {commands.data && commands.data.commands.length > 0 ? (
          <table class="rows">
            <thead>
              <tr>
                <th scope="col">Sent</th>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {commands.data.commands.map((c) => (
                <tr key={c.id}>
                  <td data-label="Sent">
                    <Time at={c.createdAt} />
                  </td>
                  <td data-label="Action" class="mono">
                    {c.action}
                  </td>
                  <td data-label="Status">
                    <Badge tone={c.status === 'done' ? 'good' : c.status === 'failed' ? 'bad' : ''}>
                      {c.status}
                    </Badge>
                  </td>
                  <td data-label="Result" class="mono small">
                    {c.result === null ? '' : JSON.stringify(c.result)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <SendCommand agent={a} onSent={commands.reload} />
      </section>
    </div>
  )
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw Object.assign(new Error(`${field} is not valid JSON`), { field })
  }
}

function SendMessage({ agent: a, agents }: { agent: Agent; agents: ReturnType<typeof useAgents> }) {
  const others = agents.list.filter((x) => x.id !== a.id && !x.archived && x.status === 'active')
  const [to, setTo] = useState('')
  const [payload, setPayload] = useState('{\n  "hello": "world"\n}')
  const [channel, setChannel] = useState('')
  const [type, setType] = useState<(typeof TYPES)[number]>('request')
  const [ok, setOk] = useState<string | null>(null)
  const send = useSubmit(async () => {
    setOk(null)
    // The recursive JsonValue payload defeats openapi-fetch's excess-property check; the
    // shape is the generated request schema's.
    const body: Schemas['BroadcastMessageRequest'] = {
      payload: parseJson(payload, 'payload') as Schemas['JsonValue'],
      type,
      ...(channel.trim() ? { channel: channel.trim() } : {}),
    }
    if (to === '*') {
      const r = await call(
        api.POST('/api/agents/{agentId}/messages/broadcast', {
          params: { path: { agentId: a.id } },
          body: body as never,
        }),
      )
      setOk(`Broadcast to ${r.recipients} agents.`)
    } else {
      await call(
        api.POST('/api/agents/{agentId}/messages/send', {
          params: { path: { agentId: a.id } },
          body: { ...body, toAgentId: to } satisfies Schemas['SendMessageRequest'] as never,
        }),
      )
      setOk('Sent.')
    }
  })
  const errors = fieldErrors(send.error)
  const localPayload =
    (send.error as { field?: string } | null)?.field === 'payload' ? 'is not valid JSON' : undefined
  return (
    <section class="panel" aria-labelledby="send-title">
      <h2 id="send-title">Send a message as {a.name}</h2>
      {others.length === 0 && agents.loaded ? (
        <p class="hint">Register another agent to send it messages.</p>
      ) : (
        <form onSubmit={send.submit} class="stack">
          <Select
            label="To"
            value={to}
            onValue={setTo}
            options={[
              ['', 'Choose an agent'],
              ['*', 'Every other agent (broadcast)'],
              ...others.map((x): [string, string] => [x.id, `${x.name} (${x.permanentId})`]),
            ]}
            error={errors.toAgentId}
          />
          <TextArea
            label="Payload (JSON)"
            value={payload}
            onValue={setPayload}
            rows={4}
            error={errors.payload ?? localPayload}
          />
          <Field label="Channel" value={channel} onValue={setChannel} error={errors.channel} />
          <Select
            label="Type"
            value={type}
            onValue={(v) => setType(v as (typeof TYPES)[number])}
            options={TYPES.map((t): [string, string] => [t, t])}
          />
          <div class="actions">
            <button type="submit" disabled={send.busy || to === ''}>
              Send
            </button>
          </div>
          <Notice error={send.error} ok={ok} />
        </form>
      )}
    </section>
  )
}

function SendCommand({ agent: a, onSent }: { agent: Agent; onSent: () => void }) {
  const [action, setAction] = useState<(typeof ACTIONS)[number]>('status')
  const [params, setParams] = useState('{}')
  const [ok, setOk] = useState<string | null>(null)
  const send = useSubmit(async () => {
    setOk(null)
    const r = await call(
      api.POST('/api/agents/{agentId}/command', {
        params: { path: { agentId: a.id } },
        body: { action, params: parseJson(params, 'params') as Record<string, Schemas['JsonValue']> },
      }),
    )
    setOk(
      r.agentOnline
        ? 'Sent: the agent is connected and gets it now.'
        : 'Queued: the agent gets it when it connects.',
    )
    onSent()
  })
  const errors = fieldErrors(send.error)
  return (
    <form onSubmit={send.submit} class="stack">
      <h3>Send a command</h3>
      <Select
        label="Action"
        value={action}
        onValue={(v) => setAction(v as (typeof ACTIONS)[number])}
        options={ACTIONS.map((x): [string, string] => [x, x])}
      />
      <TextArea
        label="Parameters (JSON object)"
        value={params}
        onValue={setParams}
        rows={2}
        error={errors.params}
      />
      <div class="actions">
        <button type="submit" disabled={send.busy}>
          Send command
        </button>
      </div>
      <Notice error={send.error} ok={ok} />
    </form>
  )
}
