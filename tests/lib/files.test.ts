import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../../src/lib/files'
import { buildDeps } from '../../src/server'
import { tempDir, testConfig } from '../helpers'

describe('files written once', () => {
  test('whole, 0600, nothing left beside them; exclusive never replaces an existing file', () => {
    const dir = tempDir()
    const file = join(dir, 'master.key')
    writeFileAtomic(file, 'first\n', { exclusive: true })
    expect(readFileSync(file, 'utf8')).toBe('first\n')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(() => writeFileAtomic(file, 'second\n', { exclusive: true })).toThrow(/EEXIST|exists/)
    expect(readFileSync(file, 'utf8')).toBe('first\n')
    writeFileAtomic(file, 'replaced\n')
    expect(readFileSync(file, 'utf8')).toBe('replaced\n')
    expect(readdirSync(dir)).toEqual(['master.key'])
  })

  test('SWITCHBOARD_MASTER_KEY_FILE: the key is read from there (created there on SQLite), not beside the database', async () => {
    const keys = tempDir('sb-keys-')
    const file = join(keys, 'sb.key')
    const config = testConfig({ SWITCHBOARD_MASTER_KEY: '', SWITCHBOARD_MASTER_KEY_FILE: file })
    if (config.database.kind === 'pg') {
      // Postgres: never generated (every instance must share one), read when it exists.
      await expect(buildDeps(config)).rejects.toThrow(/does not exist/)
      writeFileSync(file, `${'c'.repeat(64)}\n`)
    }
    const deps = await buildDeps(config)
    const sealed = deps.sealer.seal('secret', 'test')
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/)
    const again = await buildDeps(config)
    expect(again.sealer.open(sealed, 'test')).toBe('secret')
    if (config.database.kind === 'sqlite')
      expect(readdirSync(join(config.database.path, '..'))).not.toContain('master.key')
    await deps.db.close()
    await again.db.close()
  })
})
