import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import postgres from 'postgres'
import { ADMIN_TOKEN, onPostgres, TEST_MASTER_KEY } from '../helpers'
import { eventually, TestSocket } from '../ws/live'

/**
 * Two real Switchboard processes on one Postgres database: an event made on one reaches a
 * socket on the other, a missed notification is caught up from the table, the sweeps run
 * on one instance at a time, and when that one dies the other takes over.
 */
const root = join(import.meta.dir, '../..')
const procs: Instance[] = []
afterAll(() => {
  for (const p of procs) p.proc.kill('SIGKILL')
})

type Line = Record<string, any>
type Instance = { name: string; proc: Bun.Subprocess; lines: Line[]; url: string; id: string }

async function start(name: string): Promise<Instance> {
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: process.env.DATABASE_URL!,
      SWITCHBOARD_MASTER_KEY: TEST_MASTER_KEY,
      SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_LOG_LEVEL: 'debug',
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_PRESENCE_SWEEP_CRON: '* * * * * *',
      SWITCHBOARD_HEALTH_CRON: '0 0 0 1 1 *',
      SWITCHBOARD_WS_RESYNC_MS: '500',
    },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const lines: Line[] = []
  ;(async () => {
    let buf = ''
    for await (const chunk of proc.stdout) {
      buf += new TextDecoder().decode(chunk)
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const text = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        try {
          lines.push(JSON.parse(text))
        } catch {}
        nl = buf.indexOf('\n')
      }
    }
  })()
  const listening = await eventually(async () => lines.find((l) => l.msg === 'listening'), 20_000)
  const instance = {
    name,
    proc,
    lines,
    url: String(listening.url).replace(/\/$/, ''),
    id: String(listening.instance),
  }
  procs.push(instance)
  return instance
}

const runs = (i: Instance, job: string) =>
  i.lines.filter((l) => l.msg === 'scheduled job ran' && l.job === job)

async function call(base: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await res.json()) as any
}

describe.skipIf(!onPostgres)('several instances on one Postgres', () => {
  test('events cross instances, a lost notification is caught up, sweeps run once, the lead fails over', async () => {
    const [one, two] = await Promise.all([start('one'), start('two')])
    expect(one.id).not.toBe(two.id)

    const ws = await call(one.url, 'POST', '/api/workspaces', ADMIN_TOKEN, {
      name: `cluster-${crypto.randomUUID()}`,
    })
    const key = ws.apiKey as string
    const agent = await call(one.url, 'POST', '/api/agents', key, { name: 'roamer' })

    // A socket on each instance; the event is made on the other one.
    const onTwo = await TestSocket.open(`${two.url.replace('http', 'ws')}/api/ws?token=${key}`)
    const onOne = await TestSocket.open(`${one.url.replace('http', 'ws')}/api/ws?token=${key}`)
    await Promise.all([onTwo.ready(), onOne.ready()])
    await call(one.url, 'POST', `/api/agents/${agent.agent.id}/heartbeat`, agent.token, { status: 'online' })
    const crossed = await onTwo.until((f) => f.type === 'agent.status_changed')
    expect(crossed.data).toMatchObject({ agentId: agent.agent.id, to: 'online' })
    await call(two.url, 'POST', `/api/agents/${agent.agent.id}/heartbeat`, agent.token, { status: 'idle' })
    await onOne.until((f) => f.type === 'agent.status_changed' && f.data.to === 'idle')

    // An event written with no notification at all (as if NOTIFY were lost) still arrives:
    // the table is the source of truth and each instance re-reads it.
    const sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} })
    await sql`insert into events (workspace_id, type, agent_id, data, created_at)
              values (${ws.workspace.id}, 'agent.updated', ${agent.agent.id}, ${sql.json({ silent: true })}, now())`
    await sql.end()
    await onTwo.until((f) => f.type === 'agent.updated' && f.data.silent === true)
    await onOne.until((f) => f.type === 'agent.updated' && f.data.silent === true)
    for (const s of [onOne, onTwo]) {
      const ids = s.events.map((e) => e.id!)
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b))
      expect(s.events.map((e) => e.type)).toEqual([
        'agent.status_changed',
        'agent.status_changed',
        'agent.updated',
      ])
    }
    await Promise.all([onOne.close(), onTwo.close()])

    // The presence sweep is due every second on both; only the leader runs it.
    await eventually(async () => runs(one, 'presence-sweep').length + runs(two, 'presence-sweep').length >= 3)
    const [leader, follower] = runs(one, 'presence-sweep').length > 0 ? [one, two] : [two, one]
    expect(runs(follower, 'presence-sweep')).toHaveLength(0)
    expect(runs(leader, 'presence-sweep').every((l) => l.instance === leader.id)).toBe(true)
    expect(leader.lines.some((l) => l.msg === 'leading scheduled jobs')).toBe(true)

    // The leader dies without a word: its session ends, and the other takes the lead.
    leader.proc.kill('SIGKILL')
    await leader.proc.exited
    await eventually(async () => runs(follower, 'presence-sweep').length >= 2, 15_000)
    expect(follower.lines.some((l) => l.msg === 'leading scheduled jobs' && l.instance === follower.id)).toBe(
      true,
    )

    // The survivor still serves the stream.
    const after = await TestSocket.open(`${follower.url.replace('http', 'ws')}/api/ws?token=${key}&since=0`)
    await after.until((f) => f.type === 'agent.updated')
    await after.close()
  }, 60_000)
})
