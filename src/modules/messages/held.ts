import { eq, sql } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { JsonValue } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { jsonBytes } from '../../lib/cursor'
import { quotaExceeded } from '../../lib/errors'
import { newId } from '../../lib/ids'

/**
 * What a workspace holds in messages, kept in `workspace_usage` by the transactions that add
 * and remove them (counting on every send would cost as much as the cap is large): messages,
 * at most SWITCHBOARD_MAX_MESSAGES_PER_WORKSPACE, and the bytes of their payloads, each stored
 * once, at most SWITCHBOARD_MAX_MESSAGE_BYTES_PER_WORKSPACE.
 */
export async function storePayload(
  deps: Pick<Deps, 'db' | 'config' | 'clock'>,
  tx: Orm,
  m: { workspaceId: string; payload: JsonValue; expiresAt: Date; messages: number },
): Promise<string> {
  const bytes = jsonBytes(m.payload)
  const { messagesPerWorkspace, messageBytesPerWorkspace } = deps.config.quotas
  const { workspaceUsage: u, payloads: p } = deps.db.t
  const [held] = await tx.select().from(u).where(eq(u.workspaceId, m.workspaceId))
  if ((held?.messages ?? 0) + m.messages > messagesPerWorkspace)
    throw quotaExceeded(
      `This workspace already holds ${messagesPerWorkspace} messages`,
      messagesPerWorkspace,
      'SWITCHBOARD_MAX_MESSAGES_PER_WORKSPACE',
    )
  if ((held?.messageBytes ?? 0) + bytes > messageBytesPerWorkspace)
    throw quotaExceeded(
      'This workspace already holds as many bytes of messages as it may',
      messageBytesPerWorkspace,
      'SWITCHBOARD_MAX_MESSAGE_BYTES_PER_WORKSPACE',
    )
  await tx
    .insert(u)
    .values({ workspaceId: m.workspaceId, messages: m.messages, messageBytes: bytes })
    .onConflictDoUpdate({
      target: u.workspaceId,
      set: { messages: sql`${u.messages} + ${m.messages}`, messageBytes: sql`${u.messageBytes} + ${bytes}` },
    })
  const id = newId()
  await tx.insert(p).values({
    id,
    workspaceId: m.workspaceId,
    payload: m.payload,
    bytes,
    expiresAt: m.expiresAt,
    createdAt: deps.clock.now(),
  })
  return id
}

/** Messages (and payload bytes) a workspace no longer holds: purged, or gone with their agent. */
export async function releaseHeld(
  deps: Pick<Deps, 'db'>,
  tx: Orm,
  workspaceId: string,
  gone: { messages?: number; bytes?: number },
) {
  const { workspaceUsage: u } = deps.db.t
  const less = (col: typeof u.messages | typeof u.messageBytes, n: number) =>
    sql`case when ${col} > ${n} then ${col} - ${n} else 0 end`
  await tx
    .update(u)
    .set({
      messages: less(u.messages, gone.messages ?? 0),
      messageBytes: less(u.messageBytes, gone.bytes ?? 0),
    })
    .where(eq(u.workspaceId, workspaceId))
}
