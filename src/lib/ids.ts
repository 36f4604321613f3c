/** Row ids are UUIDv7: unique, and ordered by creation, which makes them stable cursors. */
export const newId = (): string => Bun.randomUUIDv7()

const PERMANENT_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** `agt-` + 8 characters of [a-z0-9], drawn without modulo bias. */
export function newPermanentId(): string {
  let out = 'agt-'
  while (out.length < 12) {
    for (const b of crypto.getRandomValues(new Uint8Array(16))) {
      if (b < 252 && out.length < 12) out += PERMANENT_ALPHABET[b % 36]
    }
  }
  return out
}

export const PERMANENT_ID_RE = /^agt-[a-z0-9]{8}$/

export const isPermanentId = (v: string): boolean => PERMANENT_ID_RE.test(v)

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/**
 * A webhook trigger's id, `trg_` + 32 base32 characters (160 random bits): it is the secret
 * part of the public URL `/hooks/{id}`, so it is never derived from anything guessable.
 */
export function newTriggerId(): string {
  let out = 'trg_'
  for (const b of crypto.getRandomValues(new Uint8Array(32))) out += BASE32[b & 31]
  return out
}

export const TRIGGER_ID_RE = /^trg_[a-z2-7]{32}$/
