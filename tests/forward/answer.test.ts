import { describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { decodeBody, readWholeAnswer } from '../../src/modules/forward/answer'

/** Answers read whole for users that re-shape them (app execution): never cut, decoded by type. */
describe('readWholeAnswer', () => {
  test('a body within the cap is decoded; one byte more is too large, never a cut body', async () => {
    const ok = await readWholeAnswer(
      new Response('{"a":1}', { headers: { 'content-type': 'application/json' } }),
      7,
    )
    expect(ok).toEqual({ ok: true, body: { a: 1 }, bodyEncoding: 'json', bytes: 7 })
    const chunked = new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('12345'))
          c.enqueue(new TextEncoder().encode('678'))
          c.close()
        },
      }),
    )
    expect(await readWholeAnswer(chunked, 7)).toMatchObject({ ok: false, kind: 'too_large', limitBytes: 7 })
  })

  test('a declared length over the cap is refused before reading; gzip is inflated and the cap holds for what is kept', async () => {
    const declared = new Response('x'.repeat(20), { headers: { 'content-length': '20' } })
    expect(await readWholeAnswer(declared, 10)).toMatchObject({ ok: false, kind: 'too_large' })
    const bomb = gzipSync(Buffer.alloc(100_000))
    const packed = new Response(bomb, {
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/octet-stream' },
    })
    expect(bomb.byteLength).toBeLessThan(1000)
    expect(await readWholeAnswer(packed, 10_000)).toMatchObject({ ok: false, kind: 'too_large' })
    const small = new Response(gzipSync('{"z":true}'), {
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    })
    expect(await readWholeAnswer(small, 100)).toMatchObject({ ok: true, body: { z: true } })
    const br = new Response('x', { headers: { 'content-encoding': 'br' } })
    expect(await readWholeAnswer(br, 100)).toMatchObject({ ok: false, kind: 'unreadable' })
  })
})

describe('decodeBody', () => {
  test('answers: JSON parsed, text in its charset, base64 otherwise, none when empty', () => {
    const enc = (s: string) => new TextEncoder().encode(s)
    expect(decodeBody(enc('{"a":1}'), 'application/json; charset=utf-8')).toEqual({
      body: { a: 1 },
      bodyEncoding: 'json',
    })
    expect(decodeBody(enc('{"a":1}'), 'application/problem+json')).toEqual({
      body: { a: 1 },
      bodyEncoding: 'json',
    })
    expect(decodeBody(enc('[1]'), null)).toEqual({ body: [1], bodyEncoding: 'json' })
    expect(decodeBody(enc('{broken'), 'application/json')).toEqual({ body: '{broken', bodyEncoding: 'text' })
    expect(decodeBody(enc('<a/>'), 'application/xml')).toEqual({ body: '<a/>', bodyEncoding: 'text' })
    expect(decodeBody(enc('hi'), 'text/plain')).toEqual({ body: 'hi', bodyEncoding: 'text' })
    expect(decodeBody(new Uint8Array([0x63, 0xe9]), 'text/plain; charset=iso-8859-1')).toEqual({
      body: 'cé',
      bodyEncoding: 'text',
    })
    expect(decodeBody(new Uint8Array([0xff, 0xfe]), 'text/plain')).toEqual({
      body: '//4=',
      bodyEncoding: 'base64',
    })
    expect(decodeBody(new Uint8Array([1, 2]), 'application/octet-stream')).toEqual({
      body: 'AQI=',
      bodyEncoding: 'base64',
    })
    expect(decodeBody(new Uint8Array(), 'application/json')).toEqual({ body: null, bodyEncoding: 'none' })
    // Nested deeper than a re-serialisation survives: handed on as text.
    const deep = `${'['.repeat(600)}${']'.repeat(600)}`
    expect(decodeBody(enc(deep), 'application/json').bodyEncoding).toBe('text')
  })
})
