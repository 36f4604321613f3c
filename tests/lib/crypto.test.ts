import { describe, expect, test } from 'bun:test'
import { aesGcmDecrypt, aesGcmEncrypt, keyId, Sealer, safeEqual, sha256Hex } from '../../src/lib/crypto'

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('AES-256-GCM', () => {
  // NIST / McGrew–Viega GCM spec, Test Case 16 (256-bit key, 96-bit IV, with AAD).
  const key = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308')
  const iv = hex('cafebabefacedbaddecaf888')
  const pt = hex(
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  )
  const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2')
  const ct =
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662'
  const tag = '76fc6ece0f4e1768cddf8853bb2d551b'

  test('matches the NIST test vector', () => {
    const out = aesGcmEncrypt(key, iv, pt, aad)
    expect(toHex(out.ciphertext)).toBe(ct)
    expect(toHex(out.tag)).toBe(tag)
    expect(toHex(aesGcmDecrypt(key, iv, hex(ct), hex(tag), aad))).toBe(toHex(pt))
  })

  test('a changed tag or AAD fails authentication', () => {
    expect(() => aesGcmDecrypt(key, iv, hex(ct), hex(`${tag.slice(0, -2)}00`), aad)).toThrow()
    expect(() => aesGcmDecrypt(key, iv, hex(ct), hex(tag), hex('00'))).toThrow()
  })
})

describe('Sealer', () => {
  const k1 = crypto.getRandomValues(new Uint8Array(32))
  const k2 = crypto.getRandomValues(new Uint8Array(32))

  test('round-trips, with a fresh nonce per value and the key id stored', () => {
    const s = new Sealer(k1)
    const a = s.seal('secret', 'ctx:1')
    const b = s.seal('secret', 'ctx:1')
    expect(a).not.toBe(b)
    expect(a.split('.')[1]).toBe(keyId(k1))
    expect(Buffer.from(a.split('.')[2]!, 'base64url')).toHaveLength(12)
    expect(s.open(a, 'ctx:1')).toBe('secret')
    expect(a).not.toContain('secret')
  })

  test('binds the row: a value moved to another context does not open', () => {
    const s = new Sealer(k1)
    expect(() =>
      s.open(s.seal('secret', 'agents.endpoint_credential:a'), 'agents.endpoint_credential:b'),
    ).toThrow()
  })

  test('opens values sealed under a previous key; seals under the current one', () => {
    const old = new Sealer(k1).seal('secret', 'c')
    const rotated = new Sealer(k2, [k1])
    expect(rotated.open(old, 'c')).toBe('secret')
    expect(rotated.isStale(old)).toBe(true)
    expect(rotated.isStale(rotated.seal('x', 'c'))).toBe(false)
    expect(() => new Sealer(k2).open(old, 'c')).toThrow(/no master key/)
  })

  test('tampering is detected', () => {
    const s = new Sealer(k1)
    const v = s.seal('secret', 'c')
    const parts = v.split('.')
    const body = Buffer.from(parts[3]!, 'base64url')
    body[0] = body[0]! ^ 1
    parts[3] = body.toString('base64url')
    expect(() => s.open(parts.join('.'), 'c')).toThrow()
    expect(() => s.open('garbage', 'c')).toThrow()
  })

  test('sha256Hex is SHA-256 in lower-case hex (what stored token hashes are)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(sha256Hex('tk_é')).toBe(new Bun.CryptoHasher('sha256').update('tk_é').digest('hex'))
  })

  test('safeEqual compares by value', () => {
    expect(safeEqual('abc', 'abc')).toBe(true)
    expect(safeEqual('abc', 'abd')).toBe(false)
    expect(safeEqual('abc', 'abcd')).toBe(false)
  })
})
