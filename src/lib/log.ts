import { writeSync } from 'node:fs'

/**
 * One JSON object per line on stdout. Callers pass fields, never secrets: tokens, keys and
 * credentials are only ever logged as their display prefix.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

export function createLogger(level: Level | 'silent', write: (line: string) => void = defaultWrite): Logger {
  const min = ORDER[level]
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }, errorReplacer)}\n`,
    )
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  }
}

/**
 * Lines written in the same turn of the event loop leave in one write: under load a write
 * per request line costs more than the request. Nothing waits longer than that turn.
 */
let buffered: string[] = []
function defaultWrite(line: string) {
  if (buffered.length === 0) setImmediate(flushLines)
  buffered.push(line)
}
function flushLines() {
  const lines = buffered
  buffered = []
  process.stdout.write(lines.join(''))
}
process.on('exit', () => {
  // At exit only a synchronous write is sure to land.
  if (buffered.length > 0) writeSync(1, buffered.join(''))
})

function errorReplacer(_key: string, value: unknown) {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  return value
}
