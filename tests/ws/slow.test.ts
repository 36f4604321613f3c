import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { and, asc, eq, gt } from 'drizzle-orm'
import { liveServer } from './live'

const live = await liveServer({ SWITCHBOARD_WS_MAX_BUFFER_BYTES: '262144' })
const ws = await live.workspace()
const x = await live.agent(ws.key)
const y = await live.agent(ws.key)

async function storedIds(after: number) {
  const e = live.deps.db.t.events
  const rows = await live.deps.db.orm
    .select({ id: e.id })
    .from(e)
    .where(and(eq(e.workspaceId, ws.id), gt(e.id, after)))
    .orderBy(asc(e.id))
  return rows.map((r) => r.id)
}

/** Reads the child's stdout line by line. */
function lines(proc: Bun.Subprocess<'ignore', 'pipe', 'inherit'>) {
  const reader = proc.stdout.getReader()
  let buf = ''
  return async (match: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const m = match.exec(buf)
      if (m) {
        buf = buf.slice(m.index + m[0].length)
        return m
      }
      const { value, done } = await reader.read()
      if (done) throw new Error(`child ended without ${match}: ${buf}`)
      buf += new TextDecoder().decode(value)
    }
  }
}

describe('a slow consumer', () => {
  test('is closed with 4008 once its send buffer passes the limit, and can resume from its last id', async () => {
    const proc = Bun.spawn(
      [process.execPath, join(import.meta.dir, 'fixtures/slow-client.ts'), `${live.wsUrl}?token=${ws.key}`],
      {
        stdout: 'pipe',
        stderr: 'inherit',
        stdin: 'ignore',
      },
    )
    const next = lines(proc)
    const start = Number((await next(/READY (\d+)\n/))[1])
    // Stopped, it reads nothing: the kernel's buffers fill, then the server's.
    proc.kill('SIGSTOP')
    const payload = 'x'.repeat(60_000)
    let closedSlow = false
    for (let i = 0; i < 600 && !closedSlow; i++) {
      await live.call('POST', `/api/agents/${x.id}/messages/send`, {
        token: x.token,
        body: { toAgentId: y.id, payload: { i, payload } },
      })
      if (i % 20 === 19) {
        const metrics = await live.call('GET', '/metrics')
        closedSlow = /switchboard_ws_slow_consumers_total(\{\})? 1\b/.test(metrics.body)
      }
    }
    expect(closedSlow).toBe(true)
    proc.kill('SIGCONT')
    const [, code, last, count] = await next(/CLOSE (\d+) (\d+) (\d+)\n/)
    expect(Number(code)).toBe(4008)
    const all = await storedIds(start)
    // What it got before the close is a gapless prefix of the stream …
    expect(all.slice(0, Number(count))).toEqual(all.filter((id) => id <= Number(last)))
    // … and resuming from its last id brings everything after it.
    const again = await live.socket(`?token=${ws.key}&since=${last}`)
    const rest = all.filter((id) => id > Number(last))
    await again.eventsMatching(() => true, rest.length, 20_000)
    expect(again.events.map((e) => e.id)).toEqual(rest)
    await again.close()
    expect(await proc.exited).toBe(0)
  }, 60_000)
})
