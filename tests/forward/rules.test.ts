import { describe, expect, test } from 'bun:test'
import { AppError } from '../../src/lib/errors'
import {
  answerHeaders,
  LANE_HEADERS,
  outgoingHeaders,
  TRANSPARENT_HEADERS,
} from '../../src/modules/forward/headers'
import { joinUrl } from '../../src/modules/forward/routing'

/** The engine's pure parts: where a relayed path lands, and which headers cross in each direction. */
describe('joinUrl', () => {
  test('appends the rest of the path and the query, one slash between', () => {
    expect(joinUrl('http://h:1/api', '/v1/models', '')).toBe('http://h:1/api/v1/models')
    expect(joinUrl('http://h:1/api/', '/v1/models', '?limit=2')).toBe('http://h:1/api/v1/models?limit=2')
    expect(joinUrl('http://h:1/', '', '')).toBe('http://h:1/')
    expect(joinUrl('http://h:1/mcp', '', '?a=1')).toBe('http://h:1/mcp?a=1')
    // The base's own query is kept first.
    expect(joinUrl('http://h:1/mcp?key=k', '', '?a=1')).toBe('http://h:1/mcp?key=k&a=1')
    expect(joinUrl('http://h:1/a', '/b/', '')).toBe('http://h:1/a/b/')
  })

  test('never leaves the base: dot segments and escaped separators are refused', () => {
    for (const rest of ['/../admin', '/v1/..', '/%2e%2e/x', '/.%2E/x', '/a%2Fb', '/a%5cb', '/./x', '/%zz']) {
      expect(() => joinUrl('http://h:1/api', rest, '')).toThrow(AppError)
    }
    // Encoded characters that are not separators pass as they were written.
    expect(joinUrl('http://h:1/api', '/models/ft%3Agpt', '')).toBe('http://h:1/api/models/ft%3Agpt')
  })
})

describe('header rules', () => {
  const incoming = new Headers({
    authorization: 'Bearer client-secret',
    cookie: 'session=1',
    'x-api-key': 'client-key',
    connection: 'keep-alive, x-hop',
    'x-hop': 'named by connection',
    'transfer-encoding': 'chunked',
    'x-switchboard-caller': 'agt-spoofed',
    'x-forwarded-for': '10.0.0.1',
    'mcp-session-id': 's-1',
    'mcp-protocol-version': '2025-11-25',
    'a2a-version': '1.0',
    'content-type': 'application/json',
    host: 'switchboard.example',
  })

  test('transparent: the protocol’s headers go up, the client’s secrets and framing do not; the credential wins', () => {
    const out = outgoingHeaders(
      incoming,
      TRANSPARENT_HEADERS.request,
      { 'x-request-id': 'r1' },
      {
        name: 'Authorization',
        value: 'Bearer endpoint',
      },
    )
    expect(out).toEqual({
      'mcp-session-id': 's-1',
      'mcp-protocol-version': '2025-11-25',
      'a2a-version': '1.0',
      'content-type': 'application/json',
      'x-request-id': 'r1',
      authorization: 'Bearer endpoint',
    })
  })

  test('no credential stored: no Authorization goes up at all', () => {
    expect(
      outgoingHeaders(incoming, TRANSPARENT_HEADERS.request, undefined, null).authorization,
    ).toBeUndefined()
  })

  test('answers: transparent passes everything but cookies, challenges, framing and alt-svc; lanes pass a short list', () => {
    const upstream = new Headers([
      ['content-type', 'text/event-stream'],
      ['mcp-session-id', 's-1'],
      ['retry-after', '3'],
      ['x-ratelimit-remaining-requests', '9'],
      ['set-cookie', 'u=1'],
      ['www-authenticate', 'Bearer realm="upstream"'],
      ['alt-svc', 'h3=":443"'],
      ['x-switchboard-fallback', 'agt-spoofed'],
      ['transfer-encoding', 'chunked'],
      ['content-length', '10'],
    ])
    const relayed = answerHeaders(upstream, TRANSPARENT_HEADERS.answer, {
      'x-accel-buffering': 'no',
    }) as Headers
    expect(Object.fromEntries(relayed)).toEqual({
      'content-type': 'text/event-stream',
      'mcp-session-id': 's-1',
      'retry-after': '3',
      'x-ratelimit-remaining-requests': '9',
      'x-accel-buffering': 'no',
    })
    expect(answerHeaders(upstream, LANE_HEADERS.answer)).toEqual({ 'content-type': 'text/event-stream' })
  })
})
