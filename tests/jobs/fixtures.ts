import { expect } from 'bun:test'

type Caller = (
  method: string,
  path: string,
  opts?: any,
) => Promise<{ status: number; body: any; headers: Headers; text: string }>

/** Polls until `check` returns a value (not undefined/false), or fails after `tries`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  tries = 400,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    await Bun.sleep(25)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Registers agents in a workspace and connects them. */
export async function connected(
  call: Caller,
  key: string,
  target: Record<string, unknown>,
  caller: Record<string, unknown> = {},
) {
  const reg = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/api/agents', { token: key, body: { name: 'a', ...body } })
    expect(res.status).toBe(201)
    return res.body as { agent: any; token: string }
  }
  const from = await reg(caller)
  const to = await reg(target)
  const conn = await call('POST', '/api/connections', {
    token: key,
    body: { agentId: from.agent.id, targetAgentId: to.agent.id, type: 'private' },
  })
  expect(conn.status).toBe(201)
  return { caller: from, target: to, conn: conn.body as { id: string } }
}

/** Waits until a job is no longer running and returns it. */
export function settled(call: Caller, token: string, jobId: string) {
  return waitFor(async () => {
    const res = await call('GET', `/api/jobs/${jobId}`, { token })
    return res.body.status !== 'running' ? res.body : undefined
  }, `job ${jobId} to settle`)
}
