import { readdirSync, readFileSync } from 'node:fs'
import type { Registry } from './metrics'

/**
 * The standard process metrics, under the names every Prometheus client library uses
 * (process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, …), read at
 * scrape time. File descriptors and limits come from /proc (Linux); elsewhere those series
 * are left out.
 */
export function registerProcessMetrics(metrics: Registry, build: { version: string }) {
  const startTime = Math.round((Date.now() - process.uptime() * 1000) / 1000)
  metrics.gauge('switchboard_build_info', 'Always 1; the labels say which build runs', () => [
    [{ version: build.version, runtime: `bun ${Bun.version}` }, 1],
  ])
  metrics.counterFrom('process_cpu_user_seconds_total', 'User CPU time spent, in seconds', () => [
    [{}, process.cpuUsage().user / 1e6],
  ])
  metrics.counterFrom('process_cpu_system_seconds_total', 'System CPU time spent, in seconds', () => [
    [{}, process.cpuUsage().system / 1e6],
  ])
  metrics.counterFrom('process_cpu_seconds_total', 'User and system CPU time spent, in seconds', () => {
    const u = process.cpuUsage()
    return [[{}, (u.user + u.system) / 1e6]]
  })
  metrics.gauge(
    'process_start_time_seconds',
    'Start time of the process since the Unix epoch, in seconds',
    () => [[{}, startTime]],
  )
  metrics.gauge('process_resident_memory_bytes', 'Resident memory size, in bytes', () => [
    [{}, process.memoryUsage.rss()],
  ])
  metrics.gauge('process_heap_bytes', 'JavaScript heap size (allocated), in bytes', () => [
    [{}, process.memoryUsage().heapTotal],
  ])
  metrics.gauge('process_heap_used_bytes', 'JavaScript heap in use, in bytes', () => [
    [{}, process.memoryUsage().heapUsed],
  ])
  const linux = process.platform === 'linux'
  if (!linux) return
  metrics.gauge('process_virtual_memory_bytes', 'Virtual memory size, in bytes', () => {
    const vsize = readStat()?.vsize
    return vsize === undefined ? [] : [[{}, vsize]]
  })
  metrics.gauge('process_open_fds', 'Open file descriptors', () => {
    try {
      return [[{}, readdirSync('/proc/self/fd').length]]
    } catch {
      return []
    }
  })
  metrics.gauge('process_max_fds', 'The limit on open file descriptors', () => {
    const max = maxFds()
    return max === null ? [] : [[{}, max]]
  })
}

/** Field 23 of /proc/self/stat (after the command name, which may hold spaces). */
function readStat(): { vsize: number } | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { vsize: Number(fields[20]) }
  } catch {
    return null
  }
}

function maxFds(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8')
    const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1]
    if (!soft) return null
    return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft)
  } catch {
    return null
  }
}
