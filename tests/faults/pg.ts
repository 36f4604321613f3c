import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A Postgres cluster of a test's own, so a fault test can stop, kill and freeze it without
 * touching the shared server others' tests use. Created with initdb in a temp directory as
 * the `postgres` user, on a free loopback port; `destroy()` stops it and removes the files.
 */
const BIN = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].find(
  (d) => existsSync(join(d, 'initdb')),
)

/** Why private clusters cannot run here, or null when they can. */
export function privatePgUnavailable(): string | null {
  if (!BIN) return 'no Postgres server binaries (initdb) under /usr/lib/postgresql'
  if (process.getuid?.() !== 0) return 'private clusters are created as the postgres user, which needs root'
  if (!Bun.which('runuser')) return 'runuser is not installed'
  if (Bun.spawnSync(['id', 'postgres'], { stdout: 'ignore', stderr: 'ignore' }).exitCode !== 0)
    return 'no postgres system user'
  return null
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

function asPostgres(cmd: string[], opts: { quiet?: boolean } = {}) {
  const r = Bun.spawnSync(['runuser', '-u', 'postgres', '--', ...cmd], { stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0 && !opts.quiet)
    throw new Error(`${cmd.join(' ')} failed: ${r.stderr.toString()}${r.stdout.toString()}`)
  return r
}

export class PrivatePg {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivatePg> {
    const why = privatePgUnavailable()
    if (why) throw new Error(why)
    const dir = mkdtempSync(join(tmpdir(), 'sb-pg-'))
    const uid = Number(Bun.spawnSync(['id', '-u', 'postgres']).stdout.toString().trim())
    const gid = Number(Bun.spawnSync(['id', '-g', 'postgres']).stdout.toString().trim())
    chownSync(dir, uid, gid)
    asPostgres([
      join(BIN!, 'initdb'),
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
    ])
    const pg = new PrivatePg(dir, await freePort())
    pg.start()
    return pg
  }

  url(db = 'postgres') {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`
  }

  start() {
    asPostgres([
      join(BIN!, 'pg_ctl'),
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-o',
      // Durability is not what these tests are about; fsync off keeps them fast.
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ])
  }

  /** `fast`: clients are disconnected cleanly; `immediate`: as a crash would. */
  stop(mode: 'fast' | 'immediate' = 'fast') {
    asPostgres([join(BIN!, 'pg_ctl'), '-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop'], {
      quiet: true,
    })
  }

  restart(mode: 'fast' | 'immediate' = 'fast') {
    this.stop(mode)
    this.start()
  }

  /** The postmaster and every backend, by pid (for SIGSTOP/SIGCONT). */
  pids(): number[] {
    const pidFile = Bun.file(join(this.dir, 'data', 'postmaster.pid'))
    const main = Number(Bun.spawnSync(['head', '-n1', pidFile.name!]).stdout.toString().trim())
    const kids = Bun.spawnSync(['pgrep', '-P', String(main)])
      .stdout.toString()
      .split('\n')
      .filter(Boolean)
      .map(Number)
    return [main, ...kids]
  }

  /** Every process of the cluster stopped: connections stay open and nothing answers. */
  freeze() {
    for (const pid of this.pids()) process.kill(pid, 'SIGSTOP')
  }

  thaw() {
    for (const pid of this.pids()) process.kill(pid, 'SIGCONT')
  }

  async sql(query: string, db = 'postgres') {
    const r = Bun.spawnSync(
      [
        join(BIN!, 'psql'),
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '-d',
        db,
        '-Atqc',
        query,
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    if (r.exitCode !== 0) throw new Error(`psql: ${r.stderr.toString()}`)
    return r.stdout.toString().trim()
  }

  destroy() {
    try {
      this.thaw()
    } catch {}
    this.stop('immediate')
    rmSync(this.dir, { recursive: true, force: true })
  }
}
