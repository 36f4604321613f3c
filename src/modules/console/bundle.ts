import { basename } from 'node:path'
import page from '../../../web/index.html'

/** One file of the console: its bytes, type and a validator for conditional requests. */
export type ConsoleFile = { body: Blob; type: string; etag: string }
export type ConsoleBundle = { index: ConsoleFile; assets: Map<string, ConsoleFile> }

/**
 * The console's files, keyed by the name the page refers to them by (`chunk-….js`).
 * In the compiled binary `bun build --compile` has bundled the HTML import ahead of time
 * and embedded its output; from source (npm start, bun --hot, the tests) the same import is
 * bundled here, in memory, once per process as this module loads — so the routes know every
 * file's name when the app is composed. Either way the files are served by our own routes:
 * every answer carries our headers (CSP above all) and passes through the app's hooks
 * unharmed, which Bun's own serving of an HTML import inside Elysia does not.
 */
export const consoleBundle: ConsoleBundle = page.files
  ? fromCompiled(page.files)
  : await fromSource(page.index)

function fromCompiled(files: NonNullable<typeof page.files>): ConsoleBundle {
  const assets = new Map<string, ConsoleFile>()
  let index: ConsoleFile | undefined
  for (const f of files) {
    const file = { body: Bun.file(f.path), type: f.headers['content-type'], etag: `"${f.headers.etag}"` }
    if (f.loader === 'html') index = file
    else assets.set(basename(f.path), file)
  }
  if (!index) throw new Error('the compiled console has no HTML page')
  return { index, assets }
}

async function fromSource(entry: string): Promise<ConsoleBundle> {
  const out = await Bun.build({ entrypoints: [entry], minify: true, target: 'browser', publicPath: '/' })
  if (!out.success) throw new AggregateError(out.logs, 'the console failed to bundle')
  const assets = new Map<string, ConsoleFile>()
  let index: ConsoleFile | undefined
  for (const o of out.outputs) {
    const file = {
      body: o,
      type: o.type,
      etag: `"${o.hash ?? Bun.hash(await o.arrayBuffer()).toString(36)}"`,
    }
    if (o.path.endsWith('.html')) index = file
    else assets.set(basename(o.path), file)
  }
  if (!index) throw new Error('the console bundle has no HTML page')
  return { index, assets }
}
