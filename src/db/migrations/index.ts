import { createHash } from 'node:crypto'

/** The shape drizzle's migrators take (drizzle-orm/migrator readMigrationFiles). */
export type MigrationMeta = { sql: string[]; bps: boolean; folderMillis: number; hash: string }
type Journal = { entries: { tag: string; when: number; breakpoints: boolean }[] }

/**
 * Builds drizzle's migration list from SQL embedded at build time instead of a folder
 * read at run time, so the compiled binary carries its own migrations.
 * Mirrors readMigrationFiles: same statement split, same hash.
 */
export function toMigrations(journal: Journal, files: Record<string, string>): MigrationMeta[] {
  return journal.entries.map((entry) => {
    const query = files[entry.tag]
    if (query === undefined) throw new Error(`migration ${entry.tag} is in the journal but was not embedded`)
    return {
      sql: query.split('--> statement-breakpoint'),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: createHash('sha256').update(query).digest('hex'),
    }
  })
}
