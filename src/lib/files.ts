import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/**
 * Writes a file so that after a crash, a full disk or a power cut it is either absent or
 * whole, never empty or half-written: into a temp file beside it, fsynced, renamed over the
 * name, then the directory fsynced so the rename itself is on disk. With `exclusive`, an
 * existing file is never replaced (the rename is a hard link then: it fails if the name exists).
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode?: number; exclusive?: boolean } = {},
) {
  const mode = opts.mode ?? 0o600
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`)
  const fd = openSync(tmp, 'wx', mode)
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    let off = 0
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw e
  }
  closeSync(fd)
  try {
    if (opts.exclusive) linkSync(tmp, path)
    else renameSync(tmp, path)
  } finally {
    rmSync(tmp, { force: true })
  }
  syncDir(dir)
}

/** fsync of a directory: makes a rename or an unlink in it durable. */
export function syncDir(dir: string) {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
