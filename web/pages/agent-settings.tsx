import { useState } from 'preact/hooks'
import { api, call } from '../api/client'
import { Notice, useSubmit } from '../ui'
import type { Agent } from './agent'
import { bodyOf, errorsFor, localErrors } from './agent-body'
import { BasicFields, fieldsOf, MetadataFields, RoutingFields, useAgentForm } from './agent-form'

/** Every registration field, saved with one PATCH. */
export function SettingsTab({ agent, onSaved }: { agent: Agent; onSaved: (a: Agent) => void }) {
  const { fields, setFields, errors, setErrors } = useAgentForm(fieldsOf(agent))
  const [saved, setSaved] = useState<string | null>(null)
  const { busy, error, submit } = useSubmit(async () => {
    setSaved(null)
    const local = localErrors(fields)
    setErrors(local)
    if (Object.keys(local).length > 0)
      throw new Error('Some fields need attention; see the messages next to them.')
    try {
      const updated = await call(
        api.PATCH('/api/agents/{agentId}', {
          params: { path: { agentId: agent.id } },
          body: bodyOf(fields, 'null'),
        }),
      )
      onSaved(updated)
      setFields(fieldsOf(updated))
      setSaved('Saved.')
    } catch (e) {
      setErrors(errorsFor(e))
      throw e
    }
  })
  return (
    <form onSubmit={submit} noValidate class="stack">
      <BasicFields fields={fields} set={setFields} errors={errors} />
      <MetadataFields fields={fields} set={setFields} errors={errors} />
      <RoutingFields fields={fields} set={setFields} errors={errors} selfId={agent.id} />
      <Notice error={error} ok={saved} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  )
}
