/**
 * Token and key format: `<prefix><32 base62 random chars><6 base62 checksum chars>`.
 * 32 base62 characters carry ~190 bits of randomness; the checksum (CRC32 of everything
 * before it) lets a mistyped or truncated value be refused without a database query.
 */
import { sha256Hex } from '../../lib/crypto'

export type SecretKind = 'agent' | 'workspace'
export const PREFIX: Record<SecretKind, string> = { agent: 'tk_', workspace: 'wk_' }

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const RANDOM_CHARS = 32
const CHECKSUM_CHARS = 6
const DISPLAY_CHARS = 7

function randomBase62(n: number): string {
  let out = ''
  while (out.length < n) {
    const bytes = crypto.getRandomValues(new Uint8Array(n * 2))
    for (const b of bytes) {
      // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
      if (b < 248 && out.length < n) out += ALPHABET[b % 62]
    }
  }
  return out
}

function base62Fixed(value: number, width: number): string {
  let v = value >>> 0
  let out = ''
  for (let i = 0; i < width; i++) {
    out = ALPHABET[v % 62] + out
    v = Math.floor(v / 62)
  }
  return out
}

function checksum(body: string): string {
  return base62Fixed(Bun.hash.crc32(body), CHECKSUM_CHARS)
}

export function generateSecret(kind: SecretKind): string {
  const body = PREFIX[kind] + randomBase62(RANDOM_CHARS)
  return body + checksum(body)
}

const SHAPE = /^(tk_|wk_)[0-9A-Za-z]{38}$/

/** Which kind a presented secret claims to be, judged by its shape and checksum alone. */
export function classifySecret(value: string): SecretKind | 'pregenerated' | 'invalid' {
  if (value.startsWith('tk_') || value.startsWith('wk_')) {
    if (!SHAPE.test(value)) return 'invalid'
    const body = value.slice(0, -CHECKSUM_CHARS)
    if (checksum(body) !== value.slice(-CHECKSUM_CHARS)) return 'invalid'
    return value.startsWith('tk_') ? 'agent' : 'workspace'
  }
  return isValidPregenerated(value) ? 'pregenerated' : 'invalid'
}

/** A caller-supplied agent token (seed 004): 32–256 printable ASCII characters, no reserved prefix. */
export function isValidPregenerated(value: string): boolean {
  return (
    value.length >= 32 && value.length <= 256 && /^[\x21-\x7e]+$/.test(value) && !/^(tk_|wk_)/.test(value)
  )
}

/** The part of a secret that may be shown and logged. */
export function displayPrefix(value: string): string {
  return value.startsWith('tk_') || value.startsWith('wk_')
    ? value.slice(0, 3 + DISPLAY_CHARS)
    : value.slice(0, 6)
}

export const hashSecret = sha256Hex
