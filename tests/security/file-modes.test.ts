import { describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../../src/db'
import { tempDir } from '../helpers'

/**
 * The SQLite database holds every hash, sealed credential and message: its files are the
 * owner's alone (0600) whatever the directory they are created in allows.
 */
const mode = (p: string) => statSync(p).mode & 0o777

describe('SQLite files', () => {
  test('the database, -wal and -shm are created 0600 in a directory open to everyone', async () => {
    const dir = tempDir('sb-modes-')
    chmodSync(dir, 0o777)
    const previous = process.umask(0o000)
    try {
      const path = join(dir, 'switchboard.db')
      const db = await openDatabase({ kind: 'sqlite', path, synchronous: 'normal' })
      await db.migrate()
      await db.write(() => db.execute(sql`create table if not exists t (x integer)`))
      await db.write(() => db.execute(sql`insert into t values (1)`))
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect(existsSync(file)).toBe(true)
        expect({ file, mode: mode(file).toString(8) }).toEqual({ file, mode: '600' })
      }
      await db.close()
    } finally {
      process.umask(previous)
    }
  })

  test('a fresh data directory is the owner’s too', async () => {
    const parent = tempDir('sb-modes-')
    const previous = process.umask(0o000)
    try {
      const path = join(parent, 'data', 'switchboard.db')
      const db = await openDatabase({ kind: 'sqlite', path, synchronous: 'normal' })
      expect(mode(join(parent, 'data')).toString(8)).toBe('700')
      expect(mode(path).toString(8)).toBe('600')
      await db.close()
    } finally {
      process.umask(previous)
    }
  })
})
