import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { eq, sql } from 'drizzle-orm'
import postgres from 'postgres'
import { openDatabase } from '../../src/db'
import { migrations as pgMigrations } from '../../src/db/migrations/pg.gen'
import { migrations as sqliteMigrations } from '../../src/db/migrations/sqlite.gen'
import { newId, newPermanentId } from '../../src/lib/ids'
import { onPostgres, tempDir } from '../helpers'

/**
 * Upgrading a database that already has agents, and deleted ones in its audit log, reserves
 * all their ids: none of them can be registered again after the upgrade.
 */
const adminUrl = process.env.PG_ADMIN_URL
const fresh = `sb_upgrade_${crypto.randomUUID().slice(0, 8)}`
afterAll(async () => {
  if (!onPostgres || !adminUrl) return
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`drop database if exists ${fresh} with (force)`)
  await admin.end()
})

async function freshDatabase() {
  if (!onPostgres)
    return openDatabase({ kind: 'sqlite', path: join(tempDir(), 'upgrade.db'), synchronous: 'normal' })
  const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${fresh}`)
  await admin.end()
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${fresh}`
  return openDatabase({ kind: 'pg', url: url.toString(), poolSize: 2, timeoutMs: 10_000 })
}

describe.skipIf(onPostgres && !adminUrl)('the upgrade to reserved ids and bounded sizes', () => {
  test('existing agents and audited deletions are reserved; sizes and held messages are counted', async () => {
    const db = await freshDatabase()
    const shipped = onPostgres ? pgMigrations : sqliteMigrations
    const before = shipped.findIndex((m) => m.sql.join('').includes('agent_ids'))
    expect(before).toBeGreaterThan(0)
    await db.migrate(shipped.slice(0, before))

    // The database as the previous release left it: raw SQL, since today's tables have more columns.
    const now = new Date()
    const t = db.t
    const at = onPostgres ? now.toISOString() : now.getTime()
    const json = (v: unknown) => (onPostgres ? sql`${JSON.stringify(v)}::jsonb` : JSON.stringify(v))
    const workspaceId = newId()
    const living = { id: newId(), permanentId: newPermanentId() }
    const deleted = { id: newId(), permanentId: newPermanentId() }
    await db.tx(async (tx) => {
      await db.execute(
        sql`insert into workspaces (id, name, created_at) values (${workspaceId}, ${`w-${workspaceId}`}, ${at})`,
        tx,
      )
      await db.execute(
        sql`insert into agents (id, workspace_id, permanent_id, name, description, languages_supported, protocols,
              external_invocation, status, archived, presence, task_count, created_at, updated_at)
            values (${living.id}, ${workspaceId}, ${living.permanentId}, 'still here', ${'d'.repeat(500)},
              ${json([])}, ${json({})}, ${onPostgres ? false : 0}, 'active', ${onPostgres ? false : 0},
              'offline', 0, ${at}, ${at})`,
        tx,
      )
      await db.execute(
        sql`insert into messages (id, workspace_id, from_agent_id, to_agent_id, type, payload, expires_at, created_at)
            values (${newId()}, ${workspaceId}, null, ${living.id}, 'request', ${json({ old: true })},
              ${onPostgres ? new Date(now.getTime() + 3_600_000).toISOString() : now.getTime() + 3_600_000}, ${at})`,
        tx,
      )
      await db.execute(
        sql`insert into audit_logs (id, workspace_id, agent_id, action, actor_type, actor_id, metadata, created_at)
            values (${newId()}, ${workspaceId}, ${deleted.id}, 'agent_deleted', 'workspace_key', null,
              ${json({ permanentId: deleted.permanentId, name: 'gone' })}, ${at})`,
        tx,
      )
    })

    await db.migrate(shipped)
    const rows = await db.orm.select().from(t.agentIds).where(eq(t.agentIds.workspaceId, workspaceId))
    const byId = new Map(rows.map((r) => [r.id, r]))
    expect(byId.get(living.id)).toMatchObject({ permanentId: living.permanentId, deletedAt: null })
    expect(byId.get(deleted.id)?.permanentId).toBe(deleted.permanentId)
    expect(byId.get(deleted.id)?.deletedAt).not.toBeNull()
    // The sizes and the count of held messages are filled in too.
    const [agent] = await db.orm.select().from(t.agents).where(eq(t.agents.id, living.id))
    expect(agent!.metadataBytes).toBeGreaterThan(500)
    const [usage] = await db.orm
      .select()
      .from(t.workspaceUsage)
      .where(eq(t.workspaceUsage.workspaceId, workspaceId))
    expect(usage).toMatchObject({ messages: 1, messageBytes: 0 })
    await db.close()
  })
})
