import { describe, expect, test } from 'bun:test'
import { createHostChecker } from '../../src/lib/outbound/host'
import { createAddressPolicy, parseAllowedNetworks } from '../../src/lib/outbound/policy'
import { type Lookup, type ResolvedAddress, systemLookup } from '../../src/lib/outbound/resolve'
import { checkUrl } from '../../src/lib/outbound/url'

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 })
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 })

/** A resolver that never asks real DNS: unknown names fail like NXDOMAIN. */
const DNS: Record<string, ResolvedAddress[]> = {
  'internal.test': [v4('10.0.0.5')],
  'mixed.test': [v4('93.184.215.14'), v4('192.168.0.10')],
  'mixed6.test': [v6('2606:4700::1111'), v6('fd00::5')],
  'meta.test': [v4('169.254.169.254')],
  'mapped.test': [v6('::ffff:127.0.0.1')],
  '127.0.0.1.nip.io': [v4('127.0.0.1')],
  'empty.test': [],
  'public.test': [v4('93.184.215.14'), v6('2606:4700::1111')],
}
const fakeLookup: Lookup = async (name) => {
  const answer = DNS[name]
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
  return answer
}
const check = (url: string, allowed: string[] = []) =>
  checkUrl(url, createHostChecker({ policy: createAddressPolicy(allowed), lookup: fakeLookup, cacheMs: 0 }))

const HOSTILE: [url: string, reason: string][] = [
  // Loopback in every spelling the WHATWG parser accepts.
  ['http://127.0.0.1/', 'loopback'],
  ['http://127.1/', 'loopback'],
  ['http://2130706433/', 'loopback'],
  ['http://0177.0.0.1/', 'loopback'],
  ['http://0x7f.1/', 'loopback'],
  ['http://0x7f000001/', 'loopback'],
  ['http://127.255.255.254:8080/x', 'loopback'],
  ['http://[::1]/', 'loopback'],
  ['http://[0:0:0:0:0:0:0:1]/', 'loopback'],
  ['http://localhost/', 'loopback'],
  ['http://LOCALHOST./', 'loopback'],
  ['http://api.localhost:3000/', 'loopback'],
  ['http://127.0.0.1.nip.io/', 'loopback'],
  ['http://0.0.0.0/', 'unspecified'],
  ['http://0/', 'unspecified'],
  ['http://[::]/', 'unspecified'],
  // IPv6 forms that carry an IPv4 address are judged by it.
  ['http://[::ffff:127.0.0.1]/', 'ipv4_mapped'],
  ['http://[::ffff:7f00:1]/', 'ipv4_mapped'],
  ['http://[::ffff:10.0.0.1]/', 'ipv4_mapped'],
  ['http://[::127.0.0.1]/', 'ipv4_compatible'],
  ['http://[64:ff9b::7f00:1]/', 'nat64'],
  ['http://[64:ff9b::a9fe:a9fe]/', 'nat64'],
  ['http://[64:ff9b:1:7f00:1::]/', 'nat64'],
  ['http://[2002:7f00:1::]/', '6to4'],
  ['http://[2002:a9fe:a9fe::1]/', '6to4'],
  ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', 'teredo'],
  ['http://mapped.test/', 'ipv4_mapped'],
  // Private, shared and link-local networks.
  ['http://10.0.0.1/', 'private'],
  ['http://10.255.255.255/', 'private'],
  ['http://172.16.0.1/', 'private'],
  ['http://172.31.255.254/', 'private'],
  ['http://192.168.1.1/', 'private'],
  ['http://internal.test/', 'private'],
  ['http://mixed.test/', 'private'],
  ['http://100.64.0.1/', 'shared_address'],
  ['http://100.127.255.254/', 'shared_address'],
  ['http://169.254.1.1/', 'link_local'],
  ['http://[fe80::1]/', 'link_local'],
  ['http://[fc00::1]/', 'unique_local'],
  ['http://[fd12:3456::1]/', 'unique_local'],
  ['http://mixed6.test/', 'unique_local'],
  ['http://[fec0::1]/', 'site_local'],
  // Cloud metadata endpoints.
  ['http://169.254.169.254/latest/meta-data/', 'metadata'],
  ['http://169.254.170.2/v2/credentials', 'metadata'],
  ['http://100.100.100.200/latest/meta-data/', 'metadata'],
  ['http://[fd00:ec2::254]/', 'metadata'],
  ['http://meta.test/', 'metadata'],
  // Special-purpose ranges.
  ['http://224.0.0.1/', 'multicast'],
  ['http://239.255.255.250:1900/', 'multicast'],
  ['http://[ff02::1]/', 'multicast'],
  ['http://255.255.255.255/', 'broadcast'],
  ['http://198.18.0.1/', 'benchmarking'],
  ['http://[2001:2::1]/', 'benchmarking'],
  ['http://192.0.2.1/', 'documentation'],
  ['http://198.51.100.7/', 'documentation'],
  ['http://203.0.113.9/', 'documentation'],
  ['http://[2001:db8::1]/', 'documentation'],
  ['http://240.0.0.1/', 'reserved'],
  ['http://192.0.0.8/', 'reserved'],
  ['http://[100::1]/', 'reserved'],
  // Not http(s), or not a URL at all.
  ['file:///etc/passwd', 'scheme'],
  ['gopher://127.0.0.1:70/_x', 'scheme'],
  ['ftp://example.com/', 'scheme'],
  ['ws://example.com/', 'scheme'],
  ['javascript:alert(1)', 'scheme'],
  ['http://user:pass@example.com/', 'credentials'],
  ['http://user@93.184.215.14/', 'credentials'],
  ['not a url', 'invalid_url'],
  ['http://256.1.1.1/', 'invalid_url'],
  // Names with no address.
  ['http://nxdomain.test/', 'unresolvable'],
  ['http://empty.test/', 'unresolvable'],
]

describe('checkUrl refuses hostile URLs', () => {
  test.each(HOSTILE)('%s → %s', async (url, reason) => {
    const result = await check(url)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.reason).toBe(reason as typeof result.reason)
      expect(result.message.length).toBeGreaterThan(0)
    }
  })
})

describe('checkUrl allows public addresses', () => {
  test.each([
    ['http://93.184.215.14/', '93.184.215.14', 4],
    ['https://[2606:4700::1111]/dns-query', '2606:4700::1111', 6],
    ['http://public.test:8080/a?b=c', '93.184.215.14', 4],
    ['http://[::ffff:93.184.215.14]/', '::ffff:5db8:d70e', 6],
    ['http://[2002:5db8:d70e::1]/', '2002:5db8:d70e::1', 6],
  ] as const)('%s', async (url, address, family) => {
    const result = await check(url)
    expect(result).toMatchObject({ ok: true, address, family })
  })
})

describe('allowed networks override the rules', () => {
  test('127.0.0.0/8 allows loopback in its v4 and mapped spellings and localhost', async () => {
    for (const url of ['http://127.0.0.1:3000/', 'http://localhost:3000/', 'http://[::ffff:127.0.0.1]/']) {
      expect((await check(url, ['127.0.0.0/8'])).ok).toBe(true)
    }
    expect(await check('http://[::1]/', ['127.0.0.0/8'])).toMatchObject({ ok: false, reason: 'loopback' })
    expect(await check('http://10.0.0.1/', ['127.0.0.0/8'])).toMatchObject({ ok: false, reason: 'private' })
  })

  test('a bare address is one host, and v6 CIDRs work', async () => {
    expect((await check('http://10.1.2.3/', ['10.1.2.3'])).ok).toBe(true)
    expect((await check('http://10.1.2.4/', ['10.1.2.3'])).ok).toBe(false)
    expect((await check('http://[fd00::7]/', ['fd00::/8'])).ok).toBe(true)
  })

  test('every resolved address must be allowed', async () => {
    expect(await check('http://mixed.test/', ['192.168.0.0/16'])).toMatchObject({
      ok: true,
      address: '93.184.215.14',
    })
  })

  test('a malformed CIDR is rejected at construction', () => {
    expect(() => parseAllowedNetworks(['10.0.0.0/33'])).toThrow('10.0.0.0/33')
    expect(() => parseAllowedNetworks(['nope'])).toThrow('nope')
  })
})

describe('host verdict cache', () => {
  const counting = (answer: (call: number) => ResolvedAddress[]) => {
    const calls: string[] = []
    const lookup: Lookup = async (name) => {
      calls.push(name)
      const a = answer(calls.length)
      if (a.length === 0) throw new Error(`ENOTFOUND ${name}`)
      return a
    }
    return { calls, lookup }
  }
  const policy = createAddressPolicy([])

  test('reuses a verdict, and concurrent callers share one lookup', async () => {
    const { calls, lookup } = counting(() => [v4('93.184.215.14')])
    const checkHost = createHostChecker({ policy, lookup, cacheMs: 60_000 })
    await Promise.all([checkHost('a.test'), checkHost('a.test'), checkHost('a.test')])
    expect(checkHost('a.test')).toEqual({ ok: true, address: '93.184.215.14', family: 4 })
    await checkHost('b.test')
    expect(calls).toEqual(['a.test', 'b.test'])
  })

  test('keeps refusals, forgets unresolvable names, and expires', async () => {
    const { calls, lookup } = counting((n) => (n === 1 ? [] : [v4('10.0.0.1')]))
    let now = 0
    const checkHost = createHostChecker({ policy, lookup, cacheMs: 1000, now: () => now })
    expect(await checkHost('a.test')).toMatchObject({ ok: false, reason: 'unresolvable' })
    expect(await checkHost('a.test')).toMatchObject({ ok: false, reason: 'private' })
    expect(await checkHost('a.test')).toMatchObject({ ok: false, reason: 'private' })
    expect(calls.length).toBe(2)
    now = 1001
    await checkHost('a.test')
    expect(calls.length).toBe(3)
  })

  test('is bounded', async () => {
    const { calls, lookup } = counting(() => [v4('93.184.215.14')])
    const checkHost = createHostChecker({ policy, lookup, cacheMs: 60_000, maxEntries: 2 })
    for (const name of ['a', 'b', 'c', 'a']) await checkHost(name)
    expect(calls).toEqual(['a', 'b', 'c', 'a'])
  })

  test('stops waiting for a slow lookup when the signal aborts', async () => {
    const checkHost = createHostChecker({ policy, lookup: () => new Promise(() => {}) })
    const ac = new AbortController()
    const pending = checkHost('slow.test', ac.signal)
    ac.abort(new Error('gave up'))
    await expect(pending).rejects.toThrow('gave up')
  })

  test('the system resolver answers localhost from the hosts file', async () => {
    const answers = await systemLookup('localhost')
    expect(answers.length).toBeGreaterThan(0)
    for (const a of answers) expect([4, 6]).toContain(a.family)
  })
})
