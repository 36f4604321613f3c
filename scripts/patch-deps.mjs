#!/usr/bin/env node
// Applies the project's fixes to installed dependencies (run by `npm install` as postinstall,
// so `npm ci`, the Dockerfile and `npm run build` all bundle the fixed code). Each fix is a
// pair of exact texts: the original is replaced once, a file already fixed is left alone, and
// a file holding neither (a new upstream version) fails the install, so a fix is never
// silently lost. See docs/adr/0007-postgres-driver-patch.md and 0019-drizzle-row-mapping.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * postgres 3.4.9 (porsager/postgres#1066, #1154, #1208; fixes in #1168/#1209 unmerged):
 * - `nextWrite` runs from a setImmediate after `closed()` nulled the socket and throws an
 *   uncaught TypeError that ends the process. Guarded: the pending queries are rejected with
 *   CONNECTION_CLOSED instead, which callers can catch.
 * - `closed()` and `terminate()` clear the write timer without nulling it (and keep the
 *   buffered chunk), so the reconnected socket's first small write is never flushed and the
 *   connection hangs until its connect timeout. Both now reset the timer and the chunk.
 */
const postgresFixes = [
  {
    from: 'function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
    to:
      'function nextWrite(fn) {\n' +
      '    if (!socket) { // switchboard patch: the socket closed before this write ran\n' +
      '      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n' +
      '      chunk = nextWriteTimer = null\n' +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      '      return false\n' +
      '    }\n' +
      '    const x = socket.write(chunk, fn)',
  },
  {
    from: '    clearImmediate(nextWriteTimer)\n    if (socket) {',
    to: '    clearImmediate(nextWriteTimer), nextWriteTimer = chunk = null // switchboard patch\n    if (socket) {',
  },
  {
    from: '    clearImmediate(nextWriteTimer)\n    socket.removeListener',
    to: '    clearImmediate(nextWriteTimer), nextWriteTimer = chunk = null // switchboard patch\n    socket.removeListener',
  },
  {
    // closed() drops every listener, the error listener included; Bun's socket can still emit
    // the reset that closed it (ECONNRESET from its close path), which then ends the process
    // as an unhandled 'error'. The socket is finished with: its late errors are ignored.
    from: '    socket.removeAllListeners()\n    socket = null',
    to:
      '    socket.removeAllListeners()\n' +
      "    socket.on('error', () => {}) // switchboard patch: a closed socket's late reset\n" +
      '    socket = null',
  },
  {
    // Every new connection fetches the array types in a query whose promise is dropped
    // (`return fetchArrayTypes()` from the ReadyForQuery handler). A connection reset while it
    // runs — the database going down just after it accepted the connection — rejected it
    // unhandled and ended the process (`read ECONNRESET at close (node:net)`). The failure is
    // settled: the connection reconnects for its pending query and the next one fetches them.
    from: '    `], [], execute)\n    types.forEach(',
    to:
      '    `], [], execute).catch(() => null) // switchboard patch: settled, the next connection fetches them\n' +
      '    types && types.forEach(',
  },
]

/**
 * `Query.cancel()` sends the cancel request over a new connection and returns null, dropping
 * the promise of that request: when the connection fails (ECONNREFUSED, ECONNRESET — the
 * database restarting, exactly when a statement timeout cancels), the rejection is unhandled
 * and ends the process. It now returns the promise, already given a handler, so the failure of
 * a cancel request is the caller's to see and never the process's end.
 */
const postgresQueryFixes = [
  {
    from: '  cancel() {\n    return this.canceller && (this.canceller(this), this.canceller = null)\n  }',
    to:
      '  cancel() { // switchboard patch: the cancel request is settled, not dropped\n' +
      '    const request = this.canceller && this.canceller(this)\n' +
      '    this.canceller = null\n' +
      '    request && request.catch(() => {})\n' +
      '    return request || null\n' +
      '  }',
  },
]

/**
 * drizzle-orm 0.45.4 maps every result row through `mapResultRow`, which resolves each
 * column's decoder anew (`is()` checks, a `reduce` closure, a `path.entries()` iterator):
 * 2.5 µs for one 38-column agent row against 0.5 µs with the decoders resolved once.
 * A flat select (every path one key: no joins, no nested objects) now resolves them once
 * per fields array (a prepared query's lives as long as the query; a page of rows shares
 * one) and maps each row in a plain loop; every other shape runs the original code. Same
 * decoders, same keys in the same order. See docs/adr/0019-drizzle-row-mapping.md.
 */
const flatPlan = (isFn, ColumnC, SqlC, SubqueryC) =>
  'const switchboardFlatPlans = new WeakMap(); // switchboard patch: decoders resolved once per fields array\n' +
  'function switchboardFlatPlan(columns) {\n' +
  '  let plan = switchboardFlatPlans.get(columns);\n' +
  '  if (plan !== undefined) return plan;\n' +
  '  plan = [];\n' +
  '  for (const { path, field } of columns) {\n' +
  '    if (path.length !== 1) { plan = null; break; }\n' +
  `    plan.push(path[0], ${isFn}(field, ${ColumnC}) ? field : ${isFn}(field, ${SqlC}) ? field.decoder : ${isFn}(field, ${SubqueryC}) ? field._.sql.decoder : field.sql.decoder);\n` +
  '  }\n' +
  '  switchboardFlatPlans.set(columns, plan);\n' +
  '  return plan;\n' +
  '}\n' +
  'function mapResultRow(columns, row, joinsNotNullableMap) {\n' +
  '  const plan = switchboardFlatPlan(columns);\n' +
  '  if (plan !== null) {\n' +
  '    const result = {};\n' +
  '    for (let i = 0; i < plan.length; i += 2) {\n' +
  '      const rawValue = row[i >> 1];\n' +
  '      result[plan[i]] = rawValue === null ? null : plan[i + 1].mapFromDriverValue(rawValue);\n' +
  '    }\n' +
  '    return result;\n' +
  '  }\n' +
  '  const nullifyMap = {};'
const mapRowFrom = 'function mapResultRow(columns, row, joinsNotNullableMap) {\n  const nullifyMap = {};'
const drizzleFixes = [{ from: mapRowFrom, to: flatPlan('is', 'Column', 'SQL', 'Subquery') }]
const drizzleCjsFixes = [
  {
    from: mapRowFrom,
    to: flatPlan('(0, import_entity.is)', 'import_column.Column', 'import_sql.SQL', 'import_subquery.Subquery'),
  },
]

const targets = [
  { pkg: 'postgres', version: '3.4.9', files: ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js'], fixes: postgresFixes },
  { pkg: 'postgres', version: '3.4.9', files: ['src/query.js', 'cjs/src/query.js', 'cf/src/query.js'], fixes: postgresQueryFixes },
  { pkg: 'drizzle-orm', version: '0.45.4', files: ['utils.js'], fixes: drizzleFixes },
  { pkg: 'drizzle-orm', version: '0.45.4', files: ['utils.cjs'], fixes: drizzleCjsFixes },
]

let failed = false
for (const t of targets) {
  const dir = join(root, 'node_modules', t.pkg)
  if (!existsSync(dir)) continue
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
  if (version !== t.version) {
    console.error(`patch-deps: ${t.pkg} is ${version}, the fixes are for ${t.version}: check them against it`)
    failed = true
    continue
  }
  for (const file of t.files) {
    const path = join(dir, file)
    let text = readFileSync(path, 'utf8')
    let changed = false
    for (const f of t.fixes) {
      if (text.includes(f.to)) continue
      if (!text.includes(f.from)) {
        console.error(`patch-deps: ${t.pkg}/${file}: the text to fix was not found`)
        failed = true
        continue
      }
      text = text.replace(f.from, f.to)
      changed = true
    }
    if (changed) {
      writeFileSync(path, text)
      console.log(`patch-deps: fixed ${t.pkg}/${file}`)
    }
  }
}
process.exit(failed ? 1 : 0)
