import { describe, expect, test } from 'bun:test'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminWorkspace, binaryMissing, call, startBinary } from './binary'

/**
 * Issue 8, point 7: a consumer stalled longer than the transport's close timeout (~16 s)
 * still learns it was closed as slow (4008, so it resumes), not 1006.
 */
const skip = binaryMissing()
if (skip) console.warn(`faults/ws-stall skipped: ${skip}`)

describe.skipIf(skip !== null)('a socket stalled past the close timeout', () => {
  test('gets 4008 when it reads again, not 1006', async () => {
    const sb = await startBinary({
      DATABASE_URL: `sqlite:${join(tmpdir(), `sb-stall-${Date.now()}`, 'sb.db')}`,
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_WS_MAX_BUFFER_BYTES: '262144',
    })
    const key = await adminWorkspace(sb.url)
    const reg = async (name: string) =>
      (await call(sb.url, 'POST', '/api/agents', { token: key, body: { name } })).body
    const x = await reg('x')
    const y = await reg('y')
    const client = Bun.spawn(
      [
        process.execPath,
        join(import.meta.dir, '../ws/fixtures/slow-client.ts'),
        `${sb.url.replace('http', 'ws')}/api/ws?token=${key}`,
      ],
      { stdout: 'pipe', stderr: 'inherit', stdin: 'ignore' },
    )
    const reader = client.stdout.getReader()
    let out = ''
    const next = async (re: RegExp) => {
      for (;;) {
        const m = re.exec(out)
        if (m) return m
        const { value, done } = await reader.read()
        if (done) throw new Error(`client ended: ${out}`)
        out += new TextDecoder().decode(value)
      }
    }
    await next(/READY (\d+)\n/)
    client.kill('SIGSTOP')
    const payload = 'x'.repeat(60_000)
    let slow = false
    for (let i = 0; i < 600 && !slow; i++) {
      await call(sb.url, 'POST', `/api/agents/${x.agent.id}/messages/send`, {
        token: x.token,
        body: { toAgentId: y.agent.id, payload: { i, payload } },
      })
      if (i % 20 === 19)
        slow = /switchboard_ws_slow_consumers_total(\{\})? 1\b/.test(
          String((await call(sb.url, 'GET', '/metrics')).body),
        )
    }
    expect(slow).toBe(true)
    // Past the transport's ~16 s close timeout.
    await Bun.sleep(18_000)
    client.kill('SIGCONT')
    const [, code] = await next(/CLOSE (\d+) (\d+) (\d+)\n/)
    expect(Number(code)).toBe(4008)
    await sb.stop()
  }, 60_000)
})
