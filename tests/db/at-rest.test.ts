import { expect, test } from 'bun:test'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { harness, onPostgres, registerAgent } from '../helpers'

test.skipIf(onPostgres)('no plaintext token, key or endpoint credential in the SQLite files', async () => {
  const h = await harness({ env: { SWITCHBOARD_MASTER_KEY: '' } })
  const ws = await h.workspace()
  const credential = `endpoint-credential-${crypto.randomUUID()}`
  const pre = `pregenerated-token-${crypto.randomUUID()}`
  const a = await registerAgent(h, ws.key, { endpointCredential: credential })
  const b = await registerAgent(h, ws.key, { token: pre })
  const rotated = await h.call('POST', `/api/agents/${a.id}/rotate-token`, {
    token: ws.key,
    body: { graceSeconds: 60 },
  })
  const key = await h.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'k' } })
  await h.call('PUT', `/api/agents/${b.id}/endpoint-credential`, {
    token: ws.key,
    body: { endpointCredential: `${credential}-2` },
  })
  const path = h.deps.config.database.kind === 'sqlite' ? h.deps.config.database.path : ''
  const files = [path, `${path}-wal`, `${path}-shm`].filter(existsSync)
  const bytes = Buffer.concat(files.map((f) => readFileSync(f)))
  expect(bytes.length).toBeGreaterThan(0)
  for (const secret of [
    ws.key,
    a.token,
    pre,
    rotated.body.token,
    key.body.apiKey,
    credential,
    `${credential}-2`,
  ]) {
    expect(bytes.includes(secret)).toBe(false)
  }
  // …while the hash of a token is there, so the scan can see what is stored.
  const { hashSecret } = await import('../../src/modules/tokens/format')
  expect(bytes.includes(hashSecret(a.token))).toBe(true)
  // The generated master key file sits beside the database, readable by its owner only.
  const keyFile = join(dirname(path), 'master.key')
  expect(statSync(keyFile).mode & 0o777).toBe(0o600)
})
