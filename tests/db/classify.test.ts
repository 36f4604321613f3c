import { describe, expect, test } from 'bun:test'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import { classify } from '../../src/db/health'

const coded = (code: string, message = code) => Object.assign(new Error(message), { code })

describe('which errors are the database failing (503), which are a bad query (not)', () => {
  test('a socket that died mid-query, under drizzle’s wrapper, is the database unavailable', () => {
    for (const code of [
      'ECONNRESET',
      'ECONNREFUSED',
      'EPIPE',
      'ERR_SOCKET_CLOSED',
      'ERR_STREAM_DESTROYED',
      'CONNECTION_CLOSED',
    ]) {
      const e = new DrizzleQueryError('insert into agents values ($1)', ['x'], coded(code))
      expect({ code, u: classify(e) }).toEqual({ code, u: { code: 'database_unavailable', cause: code } })
    }
  })
  test('Postgres shutting down or starting, and connection exceptions, are unavailable', () => {
    for (const code of ['57P01', '57P03', '08006', '53300'])
      expect(classify(new DrizzleQueryError('select 1', [], coded(code)))?.code).toBe('database_unavailable')
  })
  test('a full or read-only disk is storage unavailable', () => {
    expect(classify(coded('SQLITE_FULL'))?.code).toBe('storage_unavailable')
    expect(classify(coded('SQLITE_READONLY_DBMOVED'))?.code).toBe('storage_unavailable')
  })
  test('a constraint, a syntax error or a plain bug is not', () => {
    for (const code of ['23505', '42601', 'SQLITE_CONSTRAINT_UNIQUE'])
      expect(classify(new DrizzleQueryError('x', [], coded(code)))).toBeNull()
    expect(classify(new TypeError('undefined is not an object'))).toBeNull()
  })
})
