import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * SHA-256 of a secret, hex encoded. Only this is stored for tokens and keys. Bun's one-shot
 * hasher: this runs on every authenticated request, and `createHash` costs three times more.
 */
export function sha256Hex(value: string): string {
  return Bun.SHA256.hash(value, 'hex')
}

/** Constant-time equality of two strings (compared as their SHA-256 so lengths never leak). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(Bun.SHA256.hash(a), Bun.SHA256.hash(b))
}

const NONCE_BYTES = 12
const TAG_BYTES = 16

export function aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad)
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return { ciphertext: new Uint8Array(ciphertext), tag: new Uint8Array(cipher.getAuthTag()) }
}

export function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
  decipher.setAAD(aad)
  decipher.setAuthTag(tag)
  return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]))
}

/** A short, stable, non-secret id for a master key, stored beside each ciphertext. */
export function keyId(key: Uint8Array): string {
  return createHash('sha256').update('switchboard/key-id/').update(key).digest('hex').slice(0, 8)
}

export class SealError extends Error {}

/**
 * Seals secrets at rest: AES-256-GCM, a random 96-bit nonce per value, the key id stored
 * with the ciphertext and a context string (purpose + row id) bound as additional data,
 * so a sealed value copied to another row or column no longer opens.
 *
 * Format: `v1.<keyId>.<nonce b64url>.<ciphertext+tag b64url>`
 */
export class Sealer {
  private readonly current: { id: string; key: Uint8Array }
  private readonly byId = new Map<string, Uint8Array>()

  constructor(currentKey: Uint8Array, previousKeys: Uint8Array[] = []) {
    if (currentKey.length !== 32) throw new SealError('master key must be 32 bytes')
    this.current = { id: keyId(currentKey), key: currentKey }
    for (const k of [currentKey, ...previousKeys]) this.byId.set(keyId(k), k)
  }

  get currentKeyId(): string {
    return this.current.id
  }

  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES)
    const { ciphertext, tag } = aesGcmEncrypt(
      this.current.key,
      nonce,
      new TextEncoder().encode(plaintext),
      new TextEncoder().encode(context),
    )
    const body = Buffer.concat([ciphertext, tag]).toString('base64url')
    return `v1.${this.current.id}.${nonce.toString('base64url')}.${body}`
  }

  open(sealed: string, context: string): string {
    const [version, kid, nonceB64, bodyB64] = sealed.split('.')
    if (version !== 'v1' || !kid || !nonceB64 || !bodyB64) throw new SealError('unrecognised sealed value')
    const key = this.byId.get(kid)
    if (!key) throw new SealError(`no master key with id ${kid} is configured`)
    const body = Buffer.from(bodyB64, 'base64url')
    if (body.length < TAG_BYTES) throw new SealError('sealed value is truncated')
    try {
      const plain = aesGcmDecrypt(
        key,
        Buffer.from(nonceB64, 'base64url'),
        body.subarray(0, body.length - TAG_BYTES),
        body.subarray(body.length - TAG_BYTES),
        new TextEncoder().encode(context),
      )
      return new TextDecoder().decode(plain)
    } catch {
      throw new SealError('sealed value failed authentication')
    }
  }

  /** True when the value was sealed under an older key and should be re-sealed. */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.current.id
  }
}

/** A 256-bit key written as 64 hex characters or as base64, or null. */
export function decodeKeyOrNull(v: string): Uint8Array | null {
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Uint8Array.from(Buffer.from(v, 'hex'))
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) {
    const b = Buffer.from(v, 'base64')
    return b.length === 32 ? Uint8Array.from(b) : null
  }
  return null
}
