import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
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
  if (!onPostgres) return openDatabase({ kind: 'sqlite', path: join(tempDir(), 'upgrade.db') })
  const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${fresh}`)
  await admin.end()
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${fresh}`
  return openDatabase({ kind: 'pg', url: url.toString(), poolSize: 2 })
}

describe.skipIf(onPostgres && !adminUrl)('the upgrade that reserves agent ids', () => {
  test('existing agents and audited deletions are reserved', async () => {
    const db = await freshDatabase()
    const shipped = onPostgres ? pgMigrations : sqliteMigrations
    const before = shipped.findIndex((m) => m.sql.join('').includes('agent_ids'))
    expect(before).toBeGreaterThan(0)
    await db.migrate(shipped.slice(0, before))

    const now = new Date()
    const t = db.t
    const workspaceId = newId()
    const living = { id: newId(), permanentId: newPermanentId() }
    const deleted = { id: newId(), permanentId: newPermanentId() }
    await db.tx(async (tx) => {
      await tx.insert(t.workspaces).values({
        id: workspaceId,
        name: `w-${workspaceId}`,
        webhookSecret: null,
        webhookSecretPrev: null,
        webhookSecretPrevUntil: null,
        createdAt: now,
      })
      await tx.insert(t.agents).values({
        id: living.id,
        workspaceId,
        permanentId: living.permanentId,
        name: 'still here',
        description: null,
        endpointUrl: null,
        webhookUrl: null,
        version: null,
        license: null,
        programmingLanguage: null,
        languagesSupported: [],
        framework: null,
        label: null,
        clientType: null,
        tokenTtlSeconds: null,
        protocols: {},
        externalInvocation: false,
        fallbackAgentId: null,
        endpointCredential: null,
        endpointCredentialHint: null,
        endpointAuthHeader: null,
        status: 'active',
        archived: false,
        presence: 'offline',
        reportedStatus: null,
        lastHeartbeatAt: null,
        lastActiveAt: null,
        lastHealthCheckAt: null,
        lastHealthCheckOk: null,
        lastHealthCheckStatus: null,
        lastHealthCheckLatencyMs: null,
        lastHealthCheckError: null,
        lastHealthOkAt: null,
        socketSeenAt: null,
        taskCount: 0,
        createdAt: now,
        updatedAt: now,
      } as never)
      await tx.insert(t.auditLogs).values({
        id: newId(),
        workspaceId,
        agentId: deleted.id,
        action: 'agent_deleted',
        actorType: 'workspace_key',
        actorId: null,
        metadata: { permanentId: deleted.permanentId, name: 'gone' },
        createdAt: now,
      })
    })

    await db.migrate(shipped)
    const rows = await db.orm.select().from(t.agentIds).where(eq(t.agentIds.workspaceId, workspaceId))
    const byId = new Map(rows.map((r) => [r.id, r]))
    expect(byId.get(living.id)).toMatchObject({ permanentId: living.permanentId, deletedAt: null })
    expect(byId.get(deleted.id)?.permanentId).toBe(deleted.permanentId)
    expect(byId.get(deleted.id)?.deletedAt).not.toBeNull()
    await db.close()
  })
})
