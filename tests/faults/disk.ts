import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Filesystems a fault test can break: a small tmpfs to fill, and an ext4 image on a loop
 * device mounted `errors=remount-ro`, which the kernel turns read-only on a filesystem error
 * (triggered through /sys/fs/ext4/<dev>/trigger_fs_error) even while files are open for write,
 * as a failing disk does in production.
 */
function run(cmd: string[]) {
  const r = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
  return { ok: r.exitCode === 0, out: r.stdout.toString().trim(), err: r.stderr.toString().trim() }
}

/** Why a tmpfs cannot be mounted here, or null. */
export function tmpfsUnavailable(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'sb-probe-'))
  const m = run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])
  if (m.ok) run(['umount', dir])
  rmSync(dir, { recursive: true, force: true })
  return m.ok ? null : `cannot mount a tmpfs here (${m.err || 'mount failed'})`
}

export function mountTmpfs(sizeMb: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-tmpfs-'))
  const m = run(['mount', '-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir])
  if (!m.ok) throw new Error(`mount tmpfs: ${m.err}`)
  return {
    dir,
    destroy() {
      run(['umount', '-l', dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Why an ext4 loop mount that can be flipped read-only is not possible here, or null. */
export function readOnlyFlipUnavailable(): string | null {
  for (const tool of ['losetup', 'mkfs.ext4', 'e2fsck'])
    if (!Bun.which(tool)) return `${tool} is not installed`
  try {
    const fs = loopExt4(8)
    const dev = fs.device
    fs.destroy()
    return dev ? null : 'no loop device'
  } catch (e) {
    return `cannot mount an ext4 image on a loop device here (${e instanceof Error ? e.message : e})`
  }
}

export function loopExt4(sizeMb: number) {
  const work = mkdtempSync(join(tmpdir(), 'sb-ext4-'))
  const image = join(work, 'disk.img')
  const dir = join(work, 'mnt')
  run(['mkdir', '-p', dir])
  if (!run(['truncate', '-s', `${sizeMb}M`, image]).ok) throw new Error('truncate failed')
  const loop = run(['losetup', '-f', '--show', image])
  if (!loop.ok) throw new Error(`losetup: ${loop.err}`)
  const device = loop.out
  const mkfs = run(['mkfs.ext4', '-q', '-F', device])
  if (!mkfs.ok) throw new Error(`mkfs.ext4: ${mkfs.err}`)
  const mount = () => {
    const m = run(['mount', '-o', 'errors=remount-ro', device, dir])
    if (!m.ok) throw new Error(`mount: ${m.err}`)
  }
  mount()
  const name = device.replace('/dev/', '')
  return {
    dir,
    device,
    /** The kernel's own reaction to a filesystem error: read-only at once, open files included. */
    flipReadOnly() {
      const w = run(['sh', '-c', `echo 1 > /sys/fs/ext4/${name}/trigger_fs_error`])
      if (!w.ok) throw new Error(`trigger_fs_error: ${w.err}`)
    },
    /** As an operator would: unmount, check and repair, mount again. */
    repair() {
      run(['umount', dir])
      run(['e2fsck', '-fy', device])
      mount()
    },
    destroy() {
      run(['umount', '-l', dir])
      run(['losetup', '-d', device])
      rmSync(work, { recursive: true, force: true })
    },
  }
}
