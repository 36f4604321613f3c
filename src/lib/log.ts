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
    write(`${logLine(lvl, msg, fields)}\n`)
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

/**
 * One line: `{"time":…,"level":…,"msg":…,…fields}`. A line of plain values (every request's) is
 * written without a replacer, which costs three times less; a line holding an Error (or
 * anything but plain data) goes through the replacer that spells errors out. Both write the
 * same text for the same fields.
 */
export function logLine(level: Level, msg: string, fields?: Record<string, unknown>): string {
  if (fields !== undefined && !plainFields(fields))
    return JSON.stringify({ time: isoNow(), level, msg, ...fields }, errorReplacer)
  const head = `{"time":"${isoNow()}","level":"${level}","msg":${JSON.stringify(msg)}`
  const rest = fields === undefined ? '{}' : JSON.stringify(fields)
  return rest === '{}' ? `${head}}` : `${head},${rest.slice(1)}`
}

/** Fields that serialise the same with and without the replacer, and after the three fixed keys. */
function plainFields(fields: Record<string, unknown>): boolean {
  for (const k in fields) {
    // These would take the fixed keys' places; index-like keys would sort before them.
    if (k === 'time' || k === 'level' || k === 'msg' || (k.charCodeAt(0) >= 48 && k.charCodeAt(0) <= 57))
      return false
    if (!plainValue(fields[k], 3)) return false
  }
  return true
}

function plainValue(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return true
  if (depth === 0) return false
  if (Array.isArray(v)) {
    for (const x of v) if (!plainValue(x, depth - 1)) return false
    return true
  }
  if (v instanceof Date) return true
  if (Object.getPrototypeOf(v) !== Object.prototype) return false
  for (const k in v) if (!plainValue((v as Record<string, unknown>)[k], depth - 1)) return false
  return true
}

/** The time of a line, rendered once per millisecond (many lines share one). */
let lastMs = -1
let lastIso = ''
function isoNow(): string {
  const ms = Date.now()
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}

/**
 * A failed query's error (drizzle's) carries the query's parameters in its message and stack:
 * tokens' hashes, sealed secrets, a caller's text. The log keeps the query and drops the values.
 */
const QUERY_PARAMS = /\nparams: [\s\S]*?(?=\n\s+at |$)/
const redactParams = (text: string | undefined) => text?.replace(QUERY_PARAMS, '\nparams: [redacted]')

function errorReplacer(_key: string, value: unknown) {
  if (value instanceof Error)
    return {
      name: value.name,
      message: redactParams(value.message),
      stack: redactParams(value.stack),
      ...(value.cause !== undefined && { cause: value.cause }),
    }
  return value
}
