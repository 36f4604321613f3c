import type { InferInsertModel, InferSelectModel, Table } from 'drizzle-orm'
import type * as pg from './pg'
import * as sqlite from './sqlite'

export * from './types'

/**
 * The tables services query. Typed by the SQLite definitions; at run time the Postgres
 * twins are used when the database is Postgres. The check below fails to compile if the
 * two dialects ever infer different row types.
 */
export type Tables = typeof sqlite
export const sqliteTables: Tables = sqlite

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Twin<K extends keyof Tables> = Tables[K] extends Table
  ? (typeof pg)[K] extends Table
    ? Same<InferSelectModel<Tables[K]>, InferSelectModel<(typeof pg)[K]>> extends true
      ? Same<InferInsertModel<Tables[K]>, InferInsertModel<(typeof pg)[K]>>
      : false
    : false
  : true
type AllTwins = { [K in keyof Tables]: Twin<K> }[keyof Tables]
export const dialectsAgree: AllTwins = true

export type Row<K extends keyof Tables> = Tables[K] extends Table ? InferSelectModel<Tables[K]> : never
