import { describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { readCapped } from '../../src/lib/read'
import { unstorable } from '../../src/lib/storable'
import { mayReport, sideOf } from '../../src/modules/jobs/access'
import { callbackUrlShape, stripSwitchboardMeta } from '../../src/modules/jobs/envelope'
import { decoded, excerpt, resultOf } from '../../src/modules/jobs/result'
import type { Actor } from '../../src/modules/tokens/actor'

const enc = (s: string) => new TextEncoder().encode(s)
const dec = (b: Uint8Array) => new TextDecoder().decode(b)

describe('stripSwitchboardMeta', () => {
  test('takes the callback URL out and keeps the rest in order', () => {
    const out = stripSwitchboardMeta(
      enc('{"a":1,"_switchboard":{"callback_url":"https://x.test/cb","k":2},"b":[3]}'),
    )
    expect(out.callbackUrl).toBe('https://x.test/cb')
    expect(dec(out.body)).toBe('{"a":1,"_switchboard":{"k":2},"b":[3]}')
  })

  test('drops _switchboard when it empties; an empty one or a null URL means no callback', () => {
    expect(
      dec(stripSwitchboardMeta(enc('{"_switchboard":{"callback_url":"http://a.test"},"x":1}')).body),
    ).toBe('{"x":1}')
    const empty = stripSwitchboardMeta(enc('{"_switchboard":{},"x":1}'))
    expect(empty.callbackUrl).toBeNull()
    expect(dec(empty.body)).toBe('{"x":1}')
    expect(stripSwitchboardMeta(enc('{"_switchboard":{"callback_url":null}}')).callbackUrl).toBeNull()
  })

  test('anything else passes byte for byte', () => {
    for (const raw of [
      '',
      'plain text',
      '[{"_switchboard":{"callback_url":"http://a.test"}}]',
      '{"broken": ',
      '  {"no":"meta",   "spacing":  "kept"}',
      '"_switchboard"',
      '42',
    ]) {
      const bytes = enc(raw)
      const out = stripSwitchboardMeta(bytes)
      expect(out.body).toBe(bytes)
      expect(out.callbackUrl).toBeNull()
    }
    const binary = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])
    expect(stripSwitchboardMeta(binary).body).toBe(binary)
  })

  test('a key written with escapes is still ours; leading whitespace is fine', () => {
    const out = stripSwitchboardMeta(enc('\n {"\\u005fswitchboard":{"callback_url":"http://a.test/"}}'))
    expect(out.callbackUrl).toBe('http://a.test/')
    expect(dec(out.body)).toBe('{}')
  })

  test('a malformed _switchboard is a 400', () => {
    for (const raw of [
      '{"_switchboard":"x"}',
      '{"_switchboard":[1]}',
      '{"_switchboard":{"callback_url":7}}',
    ]) {
      expect(() => stripSwitchboardMeta(enc(raw))).toThrow(expect.objectContaining({ status: 400 }))
    }
  })

  test('callback URLs must be http(s)', () => {
    expect(callbackUrlShape('https://a.test/x?y=1').href).toBe('https://a.test/x?y=1')
    for (const bad of [
      'ftp://a.test',
      'javascript:alert(1)',
      '/relative',
      `https://a.test/${'x'.repeat(2100)}`,
    ])
      expect(() => callbackUrlShape(bad)).toThrow(expect.objectContaining({ code: 'invalid_url' }))
  })
})

describe('results', () => {
  test('JSON when it parses, else text; empty is null; a cut body stays text', () => {
    expect(resultOf(enc('{"a":[1,2]}'), false)).toEqual({ a: [1, 2] })
    expect(resultOf(enc('"s"'), false)).toBe('s')
    expect(resultOf(enc('not json'), false)).toBe('not json')
    expect(resultOf(new Uint8Array(), false)).toBeNull()
    expect(resultOf(enc('{"a":1}'), true)).toBe('{"a":1}')
  })

  test('bytes that are not UTF-8 text, or hold NUL characters, are kept as base64', () => {
    const bin = new Uint8Array([0xff, 0x00, 0x10, 0x80])
    expect(resultOf(bin, false)).toEqual({ encoding: 'base64', data: Buffer.from(bin).toString('base64') })
    expect(resultOf(enc('a\u0000b'), false)).toEqual({
      encoding: 'base64',
      data: Buffer.from('a\u0000b').toString('base64'),
    })
    // Escaped in JSON it is still a NUL once parsed.
    expect(resultOf(enc('{"k":"\\u0000"}'), false)).toMatchObject({ encoding: 'base64' })
    // A multi-byte character cut by the cap is left out, not taken for binary.
    const cut = enc('héllo').subarray(0, 2)
    expect(resultOf(cut, true)).toBe('h')
  })

  test('unstorable: NULs and lone surrogates, looked for everywhere, iteratively', () => {
    expect(unstorable('pair 😀 is fine')).toBe(false)
    expect(unstorable('lone \ud800 high')).toBe(true)
    expect(unstorable('lone \udc00 low')).toBe(true)
    expect(resultOf(enc('{"k":"\\ud800"}'), false)).toMatchObject({ encoding: 'base64' })
    expect(unstorable({ a: [1, { b: 'x\u0000' }] })).toBe(true)
    expect(unstorable({ 'k\u0000': 1 })).toBe(true)
    expect(unstorable({ a: ['\\u0000 is only text here'] })).toBe(false)
    expect(unstorable(undefined)).toBe(false)
    let deep: unknown = 'end'
    for (let i = 0; i < 200_000; i++) deep = [deep]
    expect(unstorable(deep)).toBe(false)
    expect(unstorable(new Array(300_000).fill('ok'))).toBe(false)
  })

  test('excerpts drop control characters', () => {
    expect(excerpt(enc('bad\u0000 \u0007thing\n'))).toBe('bad thing')
    expect(excerpt(enc('x'.repeat(600)))).toHaveLength(501)
  })

  test('readCapped stops at the cap and cancels the rest', async () => {
    let pulled = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++
        c.enqueue(new Uint8Array(100).fill(97))
      },
    })
    const read = await readCapped(stream, 250)
    expect(read.truncated).toBe(true)
    expect(read.bytes.byteLength).toBe(250)
    expect(pulled).toBeLessThan(10)
    const small = await readCapped(new Response('hello').body, 250)
    expect(small).toEqual({ bytes: expect.any(Uint8Array), truncated: false })
    expect(dec(small.bytes)).toBe('hello')
    expect((await readCapped(null, 10)).bytes.byteLength).toBe(0)
  })

  test('decoded undoes gzip, but never past the cap', () => {
    const z = gzipSync('x'.repeat(10_000))
    expect(decoded(z, 'gzip', 20_000).byteLength).toBe(10_000)
    expect(() => decoded(z, 'gzip', 1000)).toThrow()
    expect(decoded(enc('plain'), null, 10)).toEqual(enc('plain'))
    expect(() => decoded(enc('x'), 'zstd-unknown', 10)).toThrow()
  })
})

describe('who stands where to a job', () => {
  const job = {
    workspaceId: 'w1',
    targetWorkspaceId: 'w2',
    callerAgentId: 'c',
    targetAgentId: 't',
    handledByAgentId: 'f',
  }
  const agent = (agentId: string, workspaceId = 'w1'): Actor => ({
    kind: 'agent',
    agentId,
    workspaceId,
    permanentId: 'agt-00000000',
    tokenId: 'x',
    tokenPrefix: 'tk_',
  })
  const key = (workspaceId: string): Actor => ({
    kind: 'workspace',
    workspaceId,
    keyId: 'k',
    keyPrefix: 'wk_',
  })

  test('sides', () => {
    expect(sideOf(job, agent('c'))).toBe('caller')
    expect(sideOf(job, agent('t', 'w2'))).toBe('target')
    expect(sideOf(job, agent('f', 'w2'))).toBe('target')
    expect(sideOf(job, agent('other'))).toBeNull()
    // The same id in the wrong workspace is nobody (ids from before they were reserved).
    expect(sideOf(job, agent('c', 'w2'))).toBeNull()
    expect(sideOf(job, agent('t', 'w1'))).toBeNull()
    expect(sideOf(job, agent('f', 'w3'))).toBeNull()
    expect(sideOf(job, key('w1'))).toBe('caller')
    expect(sideOf(job, key('w2'))).toBe('target')
    expect(sideOf(job, key('w3'))).toBeNull()
    expect(sideOf(job, { kind: 'admin' })).toBeNull()
  })

  test('only the target or the handling fallback reports', () => {
    expect(mayReport(job, agent('t', 'w2'))).toBe(true)
    expect(mayReport(job, agent('f', 'w2'))).toBe(true)
    expect(mayReport(job, agent('t', 'w1'))).toBe(false)
    expect(mayReport(job, agent('c'))).toBe(false)
    expect(mayReport(job, key('w2'))).toBe(false)
  })
})
