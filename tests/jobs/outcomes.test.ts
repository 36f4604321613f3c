import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { openDatabase } from '../../src/db'
import { createWorkspace } from '../../src/modules/workspaces/service'
import { startServer } from '../../src/server'
import { refuseUpdates } from '../db/refuse'
import { tempDir, testConfig, upstream } from '../helpers'
import { connected, waitFor } from './fixtures'

/**
 * An async job whose agent answered never stays `running`: an outcome the database refused is
 * retried until it lands; one still unrecorded at stop is spooled and recorded by the next
 * start; a delivery still under way when the grace ends is cut and its job recorded failed.
 */
const gates = new Map<string, () => void>()
const agent = upstream(async (req) => {
  const path = new URL(req.url).pathname
  if (path === '/hang') {
    await new Promise<void>((r) => req.signal.addEventListener('abort', () => r()))
    return new Response('late')
  }
  await new Promise<void>((r) => gates.set(req.headers.get('x-switchboard-job-id')!, r))
  return Response.json({ done: path })
})

async function instance(env: Record<string, string>) {
  const sb = await startServer(testConfig({ SWITCHBOARD_BOOTSTRAP: 'false', ...env }))
  const call = async (
    method: string,
    path: string,
    o: { token?: string; body?: unknown; raw?: string } = {},
  ) => {
    const res = await fetch(`${sb.url}${path}`, {
      method,
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
    })
    const text = await res.text()
    let body: any = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body, headers: res.headers, text }
  }
  return { sb, call }
}

async function jobRow(db: Awaited<ReturnType<typeof openDatabase>>, id: string) {
  return (await db.orm.select().from(db.t.jobs).where(eq(db.t.jobs.id, id)))[0]!
}

describe('job outcomes the database could not take', () => {
  test('are retried until they land', async () => {
    const { sb, call } = await instance({})
    const { apiKey } = await createWorkspace({
      deps: sb.deps,
      actor: { kind: 'admin' },
      input: { name: `o-${Date.now()}` },
    })
    const { caller, conn } = await connected(call, apiKey, { endpointUrl: `${agent.url}/retry` })
    const job = (await call('POST', `/api/proxy/${conn.id}/async`, { token: caller.token, raw: '{}' })).body
    const release = await waitFor(async () => gates.get(job.jobId), 'the delivery')
    const block = await refuseUpdates(sb.deps.db, 'jobs', job.jobId)
    release()
    await waitFor(async () => sb.deps.outcomes.size === 1, 'the outcome to be kept')
    expect((await call('GET', `/api/jobs/${job.jobId}`, { token: caller.token })).body.status).toBe('running')
    await block.lift()
    const done = await waitFor(async () => {
      const r = await call('GET', `/api/jobs/${job.jobId}`, { token: caller.token })
      return r.body.status !== 'running' ? r.body : undefined
    }, 'the retry')
    expect(done).toMatchObject({ status: 'completed', result: { done: '/retry' }, httpStatus: 200 })
    expect(sb.deps.outcomes.size).toBe(0)
    await sb.stop()
  })

  test('still unrecorded at stop: spooled, and recorded by the next start', async () => {
    const spool = join(tempDir('sb-spool-'), 'spool')
    const config = testConfig({ SWITCHBOARD_SPOOL_DIR: spool })
    const env = {
      DATABASE_URL:
        config.database.kind === 'sqlite' ? `sqlite:${config.database.path}` : config.database.url,
      SWITCHBOARD_SPOOL_DIR: spool,
    }
    const first = await instance(env)
    const { apiKey } = await createWorkspace({
      deps: first.sb.deps,
      actor: { kind: 'admin' },
      input: { name: `s-${Date.now()}` },
    })
    const { caller, conn } = await connected(first.call, apiKey, { endpointUrl: `${agent.url}/spooled` })
    const job = (await first.call('POST', `/api/proxy/${conn.id}/async`, { token: caller.token, raw: '{}' }))
      .body
    const release = await waitFor(async () => gates.get(job.jobId), 'the delivery')
    const block = await refuseUpdates(first.sb.deps.db, 'jobs', job.jobId)
    release()
    await waitFor(async () => first.sb.deps.outcomes.size === 1, 'the outcome to be kept')
    await first.sb.stop()
    expect(readdirSync(spool)).toEqual([`${job.jobId}.json`])

    // Between the runs the database takes the write again.
    const db = await openDatabase(testConfig(env).database)
    await block.lift(db)
    expect((await jobRow(db, job.jobId)).status).toBe('running')
    const second = await instance(env)
    const row = await jobRow(db, job.jobId)
    expect(row).toMatchObject({ status: 'completed', result: { done: '/spooled' }, httpStatus: 200 })
    expect(existsSync(join(spool, `${job.jobId}.json`))).toBe(false)
    await second.sb.stop()
    await db.close()
  })

  test('a delivery still under way when the grace ends is cut and its job recorded failed', async () => {
    const { sb, call } = await instance({ SWITCHBOARD_SHUTDOWN_GRACE_MS: '800' })
    const { apiKey } = await createWorkspace({
      deps: sb.deps,
      actor: { kind: 'admin' },
      input: { name: `c-${Date.now()}` },
    })
    const { caller, conn } = await connected(call, apiKey, { endpointUrl: `${agent.url}/hang` })
    const job = (await call('POST', `/api/proxy/${conn.id}/async`, { token: caller.token, raw: '{}' })).body
    expect(job.status).toBe('running')
    const config = sb.deps.config
    await sb.stop()
    const db = await openDatabase(config.database)
    const row = await jobRow(db, job.jobId)
    expect(row.status).toBe('failed')
    expect(row.error).toContain('Switchboard stopped before the agent answered')
    await db.close()
  })
})
