import { useEffect, useId, useState } from 'preact/hooks'
import { api, call, fieldErrors } from '../api/client'
import { Field, Notice, Select, TextArea, useSubmit } from '../ui'
import { AllowedAgents } from './allowed-agents'
import type { useAgents } from './names'

export type Strategy = 'round_robin' | 'failover' | 'random'
export const STRATEGIES: [Strategy, string][] = [
  ['round_robin', 'Round robin'],
  ['failover', 'Failover (by priority)'],
  ['random', 'Random'],
]

type Editable = {
  id: string
  name: string
  description: string | null
  allowedCallerIds: string[] | null
  strategy?: Strategy
}

const sameCallers = (a: string[] | null, b: string[] | null) =>
  a === null || b === null ? a === b : a.length === b.length && a.every((x) => b.includes(x))

/**
 * Rename, describe, choose who may call, and (pools) the strategy: one PATCH with what changed.
 * Folded under a disclosure so a page of many groups stays short.
 */
export function EditGroup(props: {
  kind: 'group' | 'pool'
  value: Editable
  agents: ReturnType<typeof useAgents>
  onSaved: () => void
}) {
  const v = props.value
  const [name, setName] = useState(v.name)
  const [description, setDescription] = useState(v.description ?? '')
  const [callers, setCallers] = useState<string[] | null>(v.allowedCallerIds)
  const [strategy, setStrategy] = useState<Strategy | undefined>(v.strategy)
  const [ok, setOk] = useState<string | null>(null)
  const save = useSubmit(async () => {
    setOk(null)
    const body: {
      name?: string
      description?: string | null
      allowedCallerIds?: string[] | null
      strategy?: Strategy
    } = {}
    if (name.trim() !== v.name) body.name = name.trim()
    if ((description.trim() || null) !== v.description) body.description = description.trim() || null
    if (!sameCallers(callers, v.allowedCallerIds)) body.allowedCallerIds = callers
    if (props.kind === 'pool' && strategy !== v.strategy) body.strategy = strategy
    if (Object.keys(body).length === 0) return setOk('Nothing to save: every field is as stored.')
    const path = { params: { path: { id: v.id } } }
    await (props.kind === 'group'
      ? call(api.PATCH('/api/broadcast-groups/{id}', { ...path, body }))
      : call(api.PATCH('/api/pools/{id}', { ...path, body })))
    setOk('Saved.')
    props.onSaved()
  })
  const errors = fieldErrors(save.error)
  const callerError = Object.entries(errors).find(([k]) => k.startsWith('allowedCallerIds'))?.[1]
  return (
    <details class="edit" open={Boolean(save.error)}>
      <summary>
        Edit {props.kind === 'group' ? 'the group' : 'the pool'}
        <span class="visually-hidden"> {v.name}</span>
      </summary>
      <form onSubmit={save.submit} noValidate>
        <Field label="Name" value={name} onValue={setName} required maxLength={100} error={errors.name} />
        <TextArea
          label="Description"
          value={description}
          onValue={setDescription}
          error={errors.description}
        />
        {props.kind === 'pool' ? (
          <Select
            label="Strategy"
            value={strategy ?? 'round_robin'}
            onValue={(s) => setStrategy(s as Strategy)}
            options={STRATEGIES}
            hint="Failover tries members by priority, lowest first; the others ignore priority."
            error={errors.strategy}
          />
        ) : null}
        <AllowedAgents
          legend="Who may call it"
          value={callers}
          onChange={setCallers}
          agents={props.agents}
          error={callerError}
        />
        <Notice error={save.error} ok={ok} />
        <div class="actions">
          <button type="submit" disabled={save.busy}>
            {save.busy ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </details>
  )
}

/** A pool member's priority, editable in its row. */
export function PriorityInput(props: {
  poolId: string
  member: { id: string; name: string; priority?: number | undefined }
  onSaved: () => void
}) {
  const id = useId()
  const stored = String(props.member.priority ?? 0)
  const [value, setValue] = useState(stored)
  useEffect(() => setValue(stored), [stored])
  const save = useSubmit(async () => {
    await call(
      api.PATCH('/api/pools/{id}/members/{memberId}', {
        params: { path: { id: props.poolId, memberId: props.member.id } },
        body: { priority: Number(value) },
      }),
    )
    props.onSaved()
  })
  const error = save.error ? (fieldErrors(save.error).priority ?? (save.error as Error).message) : undefined
  return (
    <form class="priority" onSubmit={save.submit} noValidate>
      <label class="visually-hidden" for={id}>
        Priority of {props.member.name}
      </label>
      <input
        id={id}
        type="number"
        min={0}
        inputMode="numeric"
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      <button
        type="submit"
        class="secondary"
        disabled={save.busy || value === stored || value.trim() === ''}
        aria-label={`Save the priority of ${props.member.name}`}
      >
        Save
      </button>
      {error ? (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </form>
  )
}
