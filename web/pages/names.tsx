import { api, call } from '../api/client'
import { Link } from '../router'
import { useLoad } from '../ui'

/** The workspace's agents by id, for showing names where the API gives ids (and for pickers). */
export function useAgents() {
  const agents = useLoad(
    () => call(api.GET('/api/agents', { params: { query: { limit: 500, archived: 'any' } } })),
    [],
  )
  const list = agents.data?.agents ?? []
  const byId = new Map(list.map((a) => [a.id, a]))
  return {
    list,
    loaded: agents.data !== undefined,
    options: list.map((a): [string, string] => [a.id, `${a.name} (${a.permanentId})`]),
    /** A link to one of ours, or the permanent id of an agent of another workspace. */
    name: (id: string, permanentId?: string) => {
      const a = byId.get(id)
      return a ? (
        <Link href={`/agents/${a.permanentId}`}>{a.name}</Link>
      ) : (
        <span class="mono">{permanentId ?? id}</span>
      )
    },
  }
}
