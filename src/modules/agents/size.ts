import { and, count, eq, ne, sum } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Deps } from '../../deps'
import { AppError, quotaExceeded } from '../../lib/errors'
import type { AgentRow } from './lookup'

/** The fields an owner (or the agent itself) sets freely, which every read of the agent carries. */
type Described = Pick<
  AgentRow,
  | 'name'
  | 'description'
  | 'endpointUrl'
  | 'webhookUrl'
  | 'version'
  | 'license'
  | 'programmingLanguage'
  | 'languagesSupported'
  | 'framework'
  | 'label'
  | 'protocols'
  | 'endpointAuthHeader'
>
type Cap = { name: string; metadata?: Record<string, unknown> | undefined }

/** How big an agent's description is: its fields, protocols and capabilities, as JSON bytes. */
export function metadataBytes(row: Described, capabilities: readonly Cap[]): number {
  return Buffer.byteLength(
    JSON.stringify([
      row.name,
      row.description,
      row.endpointUrl,
      row.webhookUrl,
      row.version,
      row.license,
      row.programmingLanguage,
      row.languagesSupported,
      row.framework,
      row.label,
      row.protocols,
      row.endpointAuthHeader,
      capabilities.map((c) => [c.name, c.metadata ?? {}]),
    ]),
  )
}

/**
 * An agent's description may not grow past SWITCHBOARD_MAX_AGENT_METADATA_BYTES (413), nor
 * the workspace's descriptions together past SWITCHBOARD_MAX_METADATA_BYTES_PER_WORKSPACE
 * (429): every list and lookup of agents carries them, so they bound what a read costs. A
 * change that does not make the agent bigger (deactivating an agent that is over a limit
 * lowered since) is always allowed.
 */
export async function checkMetadataSize(
  deps: Pick<Deps, 'db' | 'config'>,
  tx: Orm,
  agent: { id: string; workspaceId: string; metadataBytes: number },
  bytes: number,
) {
  if (bytes <= agent.metadataBytes) return
  const { agentMetadataBytes, metadataBytesPerWorkspace } = deps.config.quotas
  if (bytes > agentMetadataBytes) {
    throw new AppError(
      'payload_too_large',
      `The agent's fields and capabilities would take ${bytes} bytes; at most ${agentMetadataBytes} (SWITCHBOARD_MAX_AGENT_METADATA_BYTES)`,
      { bytes, limitBytes: agentMetadataBytes },
    )
  }
  const { agents: a } = deps.db.t
  const [others] = await tx
    .select({ total: sum(a.metadataBytes) })
    .from(a)
    .where(and(eq(a.workspaceId, agent.workspaceId), ne(a.id, agent.id)))
  if (Number(others?.total ?? 0) + bytes > metadataBytesPerWorkspace) {
    throw quotaExceeded(
      'This workspace already holds as many bytes of agent metadata as it may',
      metadataBytesPerWorkspace,
      'SWITCHBOARD_MAX_METADATA_BYTES_PER_WORKSPACE',
    )
  }
}

/** A workspace holds at most SWITCHBOARD_MAX_AGENTS_PER_WORKSPACE agents. */
export async function checkAgentCount(deps: Pick<Deps, 'db' | 'config'>, tx: Orm, workspaceId: string) {
  const max = deps.config.quotas.agentsPerWorkspace
  const { agents: a } = deps.db.t
  const [row] = await tx.select({ n: count() }).from(a).where(eq(a.workspaceId, workspaceId))
  if ((row?.n ?? 0) >= max)
    throw quotaExceeded(
      `This workspace already holds ${max} agents`,
      max,
      'SWITCHBOARD_MAX_AGENTS_PER_WORKSPACE',
    )
}
