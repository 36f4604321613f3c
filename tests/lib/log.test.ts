import { describe, expect, test } from 'bun:test'
import { createLogger, logLine } from '../../src/lib/log'

/** What every line was before the plain-data path: the whole object through the replacer. */
const reference = (level: string, msg: string, fields?: Record<string, unknown>) => {
  const line = JSON.parse(logLine('info', 'x'))
  return JSON.stringify({ time: line.time, level, msg, ...fields }, (_k, v) =>
    v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v,
  )
}
const sameTime = (a: string, b: string) =>
  a.replace(/"time":"[^"]+"/, '"time":T') === b.replace(/"time":"[^"]+"/, '"time":T')

describe('log lines', () => {
  const cases: [string, Record<string, unknown> | undefined][] = [
    ['no fields', undefined],
    ['empty', {}],
    ['a request', { requestId: 'r-1', method: 'POST', route: '/api/x/:id', status: 200, durationMs: 1.25 }],
    ['quotes and newlines', { note: 'a "quoted"\nline\u2028', n: null, u: undefined, ok: false }],
    ['nested plain data', { upstream: [{ url: 'http://a', status: 200, ms: 3 }], at: new Date(0) }],
    ['an error', { error: new Error('boom') }],
    ['an error inside', { cause: { inner: [new TypeError('deep')] } }],
    ['a fixed key as a field', { msg: 'overridden', level: 'x' }],
    ['an index-like key', { '0': 'first', b: 2 }],
    ['a class instance', { map: new Map([[1, 2]]) }],
  ]
  for (const [name, fields] of cases) {
    test(`${name}: the same text as the whole object through the replacer`, () => {
      const line = logLine('info', 'request "x"', fields)
      expect(sameTime(line, reference('info', 'request "x"', fields))).toBe(true)
      expect(() => JSON.parse(line)).not.toThrow()
    })
  }

  test('an error is spelled out, with its stack', () => {
    const lines: string[] = []
    createLogger('info', (l) => lines.push(l)).error('failed', { error: new Error('boom') })
    const parsed = JSON.parse(lines[0]!)
    expect(parsed).toMatchObject({ level: 'error', msg: 'failed', error: { name: 'Error', message: 'boom' } })
    expect(parsed.error.stack).toContain('boom')
    expect(lines[0]!.endsWith('\n')).toBe(true)
  })

  test('the time is the current time, ISO 8601', () => {
    const before = Date.now()
    const t = Date.parse(JSON.parse(logLine('warn', 'x')).time)
    expect(t).toBeGreaterThanOrEqual(before)
    expect(t).toBeLessThanOrEqual(Date.now())
  })
})

describe('a failed query in the log', () => {
  test("keeps the query and the driver's cause, drops the parameter values", async () => {
    const { DrizzleQueryError } = await import('drizzle-orm/errors')
    const secret = 'tk_secret_value_that_must_not_be_logged'
    // What drizzle's Postgres session throws when a query fails: the values are in the message.
    const cause = Object.assign(new Error('terminating connection'), { code: '57P01' })
    const failure = new DrizzleQueryError(
      'select * from agents where token_hash = $1',
      [secret, 'x\ny'],
      cause,
    )
    expect(failure.message).toContain(secret)
    const lines: string[] = []
    createLogger('info', (l) => lines.push(l)).error('unhandled error', { error: failure })
    expect(lines[0]).not.toContain(secret)
    const parsed = JSON.parse(lines[0]!)
    expect(parsed.error.message).toBe(
      'Failed query: select * from agents where token_hash = $1\nparams: [redacted]',
    )
    expect(parsed.error.stack).toContain('params: [redacted]')
    expect(parsed.error.stack).toContain('    at ')
    expect(parsed.error.cause).toMatchObject({ name: 'Error', message: 'terminating connection' })
  })
})
