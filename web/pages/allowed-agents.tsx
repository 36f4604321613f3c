import { useId, useState } from 'preact/hooks'
import type { useAgents } from './names'

/** Past this many agents the picker gets a filter box. */
const FILTER_FROM = 8

/**
 * Who may call something (an app connection, a group, a pool): any agent of the workspace
 * (null), or only the agents picked (a list; none picked closes it). Radios and checkboxes in
 * a fieldset, so it works from the keyboard and reads well to a screen reader.
 */
export function AllowedAgents(props: {
  legend: string
  value: string[] | null
  onChange: (v: string[] | null) => void
  agents: ReturnType<typeof useAgents>
  anyLabel?: string
  error?: string | undefined
}) {
  const id = useId()
  const [filter, setFilter] = useState('')
  const { value, onChange, agents } = props
  const picked = new Set(value ?? [])
  const needle = filter.trim().toLowerCase()
  const shown = agents.list.filter(
    (a) => !needle || a.name.toLowerCase().includes(needle) || a.permanentId.includes(needle),
  )
  const toggle = (agentId: string, on: boolean) =>
    onChange(on ? [...picked, agentId] : [...picked].filter((x) => x !== agentId))
  return (
    <fieldset
      class={`allowed${props.error ? ' invalid' : ''}`}
      aria-describedby={props.error ? `${id}-error` : undefined}
    >
      <legend>{props.legend}</legend>
      <div class="check">
        <input
          type="radio"
          id={`${id}-any`}
          name={`${id}-mode`}
          checked={value === null}
          onChange={() => onChange(null)}
        />
        <label for={`${id}-any`}>{props.anyLabel ?? 'Any agent of the workspace'}</label>
      </div>
      <div class="check">
        <input
          type="radio"
          id={`${id}-only`}
          name={`${id}-mode`}
          checked={value !== null}
          onChange={() => onChange(value ?? [])}
        />
        <label for={`${id}-only`}>Only the agents picked below</label>
      </div>
      {value !== null ? (
        <div class="picks">
          {agents.list.length > FILTER_FROM ? (
            <div class="field">
              <label for={`${id}-filter`}>Filter agents</label>
              <input
                id={`${id}-filter`}
                type="search"
                value={filter}
                onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
                spellcheck={false}
              />
            </div>
          ) : null}
          {agents.loaded && agents.list.length === 0 ? (
            <p class="hint">This workspace has no agents yet: register one first.</p>
          ) : null}
          <ul class="pick-list">
            {shown.map((a) => (
              <li key={a.id} class="check">
                <input
                  type="checkbox"
                  id={`${id}-${a.id}`}
                  checked={picked.has(a.id)}
                  onChange={(e) => toggle(a.id, (e.target as HTMLInputElement).checked)}
                />
                <label for={`${id}-${a.id}`}>
                  {a.name} <span class="mono small muted">{a.permanentId}</span>
                </label>
              </li>
            ))}
          </ul>
          <p class="hint" aria-live="polite">
            {picked.size === 0
              ? 'None picked: no agent may call it.'
              : `${picked.size} agent${picked.size === 1 ? '' : 's'} picked.`}
          </p>
        </div>
      ) : null}
      {props.error ? (
        <p class="error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </fieldset>
  )
}
