import { describe, expect, test } from 'bun:test'
import { auditedPath } from '../../src/modules/apps/execute'
import { DEFAULT_LIFETIME_S, usableForMs } from '../../src/modules/apps/oauth'
import { REDACTED, redactAnswer, secretForms } from '../../src/modules/apps/redact'
import { type AppPolicy, decodePath, encodeBody, planAppCall } from '../../src/modules/apps/rules'
import { HOSTILE_PATHS } from './corpus'

/** The lane's rules as pure functions: no server, no database. */
const policy: AppPolicy = {
  baseUrl: 'https://api.example.com/v2',
  allowedMethods: null,
  allowedPathPrefixes: null,
  credentialHeader: 'authorization',
  credentialQuery: null,
}
const plan = (path: string, over: Partial<AppPolicy> = {}, call: Record<string, unknown> = {}) =>
  planAppCall({ ...policy, ...over }, { method: 'GET', path, ...call })

describe('the path stays under the base URL', () => {
  test(`${HOSTILE_PATHS.length} hostile paths are each refused by their rule`, () => {
    expect(HOSTILE_PATHS.length).toBeGreaterThanOrEqual(30)
    const verdicts = HOSTILE_PATHS.map(([path]) => {
      const r = plan(path)
      return { path, rule: r.ok ? 'ALLOWED' : r.rule }
    })
    expect(verdicts).toEqual(HOSTILE_PATHS.map(([path, rule]) => ({ path, rule })))
  })

  test('ordinary paths pass and are joined under the base path, query encoded', () => {
    const ok = plan('/contacts/42', {}, { query: { q: 'a b&c', tag: ['x', 'y'], n: 3, on: true } })
    expect(ok.ok).toBe(true)
    if (!ok.ok) return
    expect(ok.url.toString()).toBe('https://api.example.com/v2/contacts/42?q=a+b%26c&tag=x&tag=y&n=3&on=true')
    expect(ok.path).toBe('/contacts/42')
    for (const path of [
      '/',
      '/a/',
      '/files/report%20final.pdf',
      '/100%25',
      '/@me',
      '/items:batchGet',
      '/a.b/c..d',
      '/~user',
    ]) {
      const r = plan(path)
      expect({ path, ok: r.ok }).toEqual({ path, ok: true })
      if (r.ok) expect(r.url.origin).toBe('https://api.example.com')
    }
  })

  test('a single encoding of an ordinary character decodes for the prefix check, and is sent as given', () => {
    const r = plan('/contact%73/1', { allowedPathPrefixes: ['/contacts'] })
    expect(r.ok).toBe(true)
    if (r.ok) {
      expect(r.path).toBe('/contacts/1')
      expect(r.url.pathname).toBe('/v2/contact%73/1')
    }
  })

  test('decodePath reports how many decodings it took', () => {
    const r = decodePath('/%252e%252e/x')
    expect(r).toEqual({
      ok: false,
      rule: 'dot_segment',
      message: 'The path holds a ".." segment (after 2 decodings)',
    })
    expect(decodePath('/a%2541')).toEqual({ ok: true, decoded: '/aA' })
  })
})

describe('methods, prefixes, headers and the query credential', () => {
  test('allowedMethods', () => {
    expect(plan('/x', { allowedMethods: ['GET', 'HEAD'] }).ok).toBe(true)
    const r = plan('/x', { allowedMethods: ['GET'] }, { method: 'DELETE' })
    expect(r.ok ? null : r.rule).toBe('method_not_allowed')
    const none = plan('/x', { allowedMethods: [] })
    expect(none.ok ? null : none.rule).toBe('method_not_allowed')
  })

  test('allowedPathPrefixes match whole segments', () => {
    const over = { allowedPathPrefixes: ['/contacts', '/deals/'] }
    for (const path of ['/contacts', '/contacts/', '/contacts/42', '/deals/7'])
      expect({ path, ok: plan(path, over).ok }).toEqual({ path, ok: true })
    for (const path of ['/contactsX', '/deals', '/admin', '/Contacts/1', '/'])
      expect({ path, rule: (plan(path, over) as { rule?: string }).rule }).toEqual({
        path,
        rule: 'path_not_allowed',
      })
    expect(plan('/anything', { allowedPathPrefixes: ['/'] }).ok).toBe(true)
    expect((plan('/x', { allowedPathPrefixes: [] }) as { rule?: string }).rule).toBe('path_not_allowed')
  })

  test('the caller may not set Authorization, Host, Cookie or the credential header, in any case', () => {
    for (const name of ['Authorization', 'authorization', 'HOST', 'Cookie', 'Proxy-Authorization']) {
      const r = plan('/x', {}, { headers: { [name]: 'x' } })
      expect({ name, rule: r.ok ? null : r.rule }).toEqual({ name, rule: 'forbidden_header' })
    }
    const r = plan('/x', { credentialHeader: 'x-api-key' }, { headers: { 'X-API-Key': 'mine' } })
    expect(r.ok ? null : r.rule).toBe('forbidden_header')
    const fine = plan('/x', {}, { headers: { 'X-Request-Tag': 'a', Accept: 'application/json' } })
    expect(fine.ok && [...fine.headers]).toEqual([
      ['accept', 'application/json'],
      ['x-request-tag', 'a'],
    ])
  })

  test('header names and values that could split a request are refused', () => {
    for (const headers of [
      { 'Bad Name': 'x' },
      { 'x-a': 'one\r\nX-Injected: 1' },
      { 'x-a': 'nul\u0000' },
      { 'x-a': 'snow\u2603' },
    ]) {
      const r = plan('/x', {}, { headers })
      expect({ headers, rule: r.ok ? null : r.rule }).toEqual({ headers, rule: 'invalid_header' })
    }
  })

  test('the query parameter that carries a query credential cannot be set by the caller', () => {
    const over = { credentialQuery: 'api_key', credentialHeader: null }
    for (const key of ['api_key', 'API_KEY']) {
      const r = plan('/x', over, { query: { [key]: 'mine' } })
      expect(r.ok ? null : r.rule).toBe('credential_query_parameter')
    }
    expect(plan('/x', over, { query: { other: 'fine' } }).ok).toBe(true)
    const ctl = plan('/x', over, { query: { q: 'a\u0000' } })
    expect(ctl.ok ? null : ctl.rule).toBe('control_character')
  })
})

describe('bodies', () => {
  test('JSON by default, text and base64 on request; none with GET or HEAD', () => {
    const json = encodeBody('POST', { body: { a: 1 } })
    expect(json.ok && new TextDecoder().decode(json.bytes!)).toBe('{"a":1}')
    expect(json.ok && json.contentType).toBe('application/json')
    const str = encodeBody('POST', { body: 'plain' })
    expect(str.ok && new TextDecoder().decode(str.bytes!)).toBe('"plain"')
    const text = encodeBody('PUT', { body: 'plain', bodyEncoding: 'text' })
    expect(text.ok && new TextDecoder().decode(text.bytes!)).toBe('plain')
    const bin = encodeBody('POST', { body: 'AAEC/w==', bodyEncoding: 'base64' })
    expect(bin.ok && [...bin.bytes!]).toEqual([0, 1, 2, 255])
    expect(encodeBody('GET', {})).toEqual({ ok: true, bytes: null, contentType: null })
    for (const [method, input] of [
      ['GET', { body: {} }],
      ['HEAD', { body: 'x', bodyEncoding: 'text' }],
      ['POST', { body: 42, bodyEncoding: 'text' }],
      ['POST', { body: 'not base64!', bodyEncoding: 'base64' }],
      ['POST', { body: 'abc', bodyEncoding: 'base64' }],
    ] as const) {
      const r = encodeBody(method, input)
      expect({ method, input, rule: r.ok ? null : r.rule }).toEqual({ method, input, rule: 'invalid_body' })
    }
  })
})

describe('OAuth2 token lifetime', () => {
  test('used until a tenth of its life (at most a minute) before it expires; 300 s when not given', () => {
    expect(usableForMs(3600)).toBe(3_540_000)
    expect(usableForMs(100)).toBe(90_000)
    expect(usableForMs('600')).toBe(540_000)
    for (const v of [undefined, null, 0, -5, 'soon', Number.NaN])
      expect({ v, ms: usableForMs(v) }).toEqual({ v, ms: (DEFAULT_LIFETIME_S - 30) * 1000 })
    expect(usableForMs(10 ** 9)).toBe((86_400 - 60) * 1000)
  })
})

describe('the audited path', () => {
  test('query values are redacted, keys kept; control characters replaced', () => {
    expect(auditedPath({ path: '/contacts', query: { email: 'ada@example.com', limit: 5 } })).toBe(
      '/contacts?email=[redacted]&limit=[redacted]',
    )
    expect(auditedPath({ path: '/a\u0000b' })).toBe('/a\ufffdb')
    expect(auditedPath({ path: `/${'x'.repeat(1000)}` }).length).toBe(512)
  })
})

describe('secrets echoed by an app', () => {
  test('are redacted from answer headers, text and JSON (values and keys), in their URL encodings too', () => {
    const forms = secretForms(['s3cret value&1', 'short'])
    expect(forms).toEqual(['s3cret%20value%261', 's3cret+value%261', 's3cret value&1'])
    const answer: { headers: Record<string, string>; body: unknown; bodyEncoding: string } = {
      headers: { 'x-echo': 'key=s3cret+value%261' },
      body: {
        url: '/x?key=s3cret%20value%261',
        list: ['s3cret value&1', 1, { 's3cret value&1': 'k' }],
        short: 'short',
      },
      bodyEncoding: 'json',
    }
    redactAnswer(answer, forms)
    expect(answer).toEqual({
      headers: { 'x-echo': `key=${REDACTED}` },
      body: { url: `/x?key=${REDACTED}`, list: [REDACTED, 1, { [REDACTED]: 'k' }], short: 'short' },
      bodyEncoding: 'json',
    })
    const text = { headers: {}, body: 'you sent s3cret value&1', bodyEncoding: 'text' }
    redactAnswer(text, forms)
    expect(text.body).toBe(`you sent ${REDACTED}`)
    const proto = { headers: {}, body: JSON.parse('{"__proto__":"s3cret value&1"}'), bodyEncoding: 'json' }
    redactAnswer(proto, forms)
    expect(Object.getOwnPropertyDescriptor(proto.body, '__proto__')?.value).toBe(REDACTED)
    expect(Object.getPrototypeOf(proto.body)).toBe(Object.prototype)
  })
})
