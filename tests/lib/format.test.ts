import { describe, expect, test } from 'bun:test'
import { isPermanentId, newPermanentId } from '../../src/lib/ids'
import {
  classifySecret,
  displayPrefix,
  generateSecret,
  isValidPregenerated,
} from '../../src/modules/tokens/format'

describe('token format', () => {
  test('generated secrets carry their kind and a valid checksum', () => {
    for (let i = 0; i < 200; i++) {
      const tk = generateSecret('agent')
      const wk = generateSecret('workspace')
      expect(tk).toMatch(/^tk_[0-9A-Za-z]{38}$/)
      expect(wk).toMatch(/^wk_[0-9A-Za-z]{38}$/)
      expect(classifySecret(tk)).toBe('agent')
      expect(classifySecret(wk)).toBe('workspace')
    }
  })

  test('any single-character change breaks the checksum', () => {
    const tk = generateSecret('agent')
    for (let i = 3; i < tk.length; i++) {
      const c = tk[i] === 'a' ? 'b' : 'a'
      expect(classifySecret(tk.slice(0, i) + c + tk.slice(i + 1))).toBe('invalid')
    }
    expect(classifySecret(tk.slice(0, -1))).toBe('invalid')
    expect(classifySecret(`${tk}x`)).toBe('invalid')
  })

  test('pre-generated tokens: 32+ printable characters without a reserved prefix', () => {
    expect(isValidPregenerated('agent_tok_1234567890abcdefghijklmnop')).toBe(true)
    expect(classifySecret('agent_tok_1234567890abcdefghijklmnop')).toBe('pregenerated')
    expect(isValidPregenerated('short')).toBe(false)
    expect(isValidPregenerated(`tk_${'a'.repeat(40)}`)).toBe(false)
    expect(isValidPregenerated(`${'a'.repeat(31)} `)).toBe(false)
    expect(classifySecret(`tk_${'a'.repeat(40)}`)).toBe('invalid')
  })

  test('randomness: no two of 10,000 secrets collide and characters spread evenly', () => {
    const seen = new Set<string>()
    const counts = new Map<string, number>()
    for (let i = 0; i < 10_000; i++) {
      const s = generateSecret('agent')
      seen.add(s)
      for (const ch of s.slice(3, 35)) counts.set(ch, (counts.get(ch) ?? 0) + 1)
    }
    expect(seen.size).toBe(10_000)
    expect(counts.size).toBe(62)
    const expected = (10_000 * 32) / 62
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.1)
  })

  test('display prefix reveals only the start', () => {
    const tk = generateSecret('agent')
    expect(displayPrefix(tk)).toBe(tk.slice(0, 10))
    expect(displayPrefix('agent_tok_1234567890abcdefghijklmnop')).toBe('agent_')
  })

  test('permanent ids are agt- + 8 of [a-z0-9]', () => {
    for (let i = 0; i < 500; i++) expect(isPermanentId(newPermanentId())).toBe(true)
    expect(isPermanentId('agt-ABCDEFGH')).toBe(false)
  })
})
