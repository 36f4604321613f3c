#!/usr/bin/env bun
/**
 * Writes the OpenAPI document exactly as a running Switchboard serves it at /docs/json:
 * starts the server on a free loopback port with a throwaway SQLite database, fetches the
 * document over HTTP, stops. Usage: bun scripts/openapi-document.ts [out.json]
 * The environment is not read, so the document does not depend on who runs this.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { startServer } from '../src/server'

const out = process.argv[2] ?? 'openapi.json'
const dir = mkdtempSync(join(tmpdir(), 'sb-openapi-'))
const running = await startServer(
  loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'switchboard.db')}`,
    SWITCHBOARD_MASTER_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex'),
    SWITCHBOARD_BOOTSTRAP: 'false',
    SWITCHBOARD_LOG_LEVEL: 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
  }),
)
try {
  const res = await fetch(`${running.url}/docs/json`)
  if (!res.ok) throw new Error(`GET /docs/json answered ${res.status}`)
  await Bun.write(out, `${JSON.stringify(await res.json(), null, 2)}\n`)
  console.error(`wrote ${out}`)
} finally {
  await running.stop()
  rmSync(dir, { recursive: true, force: true })
}
