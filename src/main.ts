#!/usr/bin/env bun
import pkg from '../package.json'
import { ConfigError, loadConfig } from './config'
import { parseArgs } from './lib/args'
import { AppError } from './lib/errors'
import { createWorkspace, issueWorkspaceKey, listWorkspaces } from './modules/workspaces/service'
import { buildDeps, startServer } from './server'

const HELP = `switchboard ${pkg.version} — registry and gateway for AI agents

Usage:
  switchboard [serve] [--port N] [--host ADDR] [--database URL]
                                    start the server (default)
  switchboard migrate               apply database migrations and exit
  switchboard workspace create NAME create a workspace and print its key once
  switchboard workspace key NAME    issue a new key for an existing workspace (a lost key)
  switchboard workspace list        list the workspaces
  switchboard healthcheck [--ready] exit 0 when the server on PORT answers /healthz (/readyz)
  switchboard --help | --version

--port, --host and --database stand for PORT, HOST and DATABASE_URL (the flag wins).
Everything else is read from the environment (SWITCHBOARD_*); see the README.`

async function main(argv: string[]): Promise<number> {
  const first = argv[0]
  if (first === '--help' || first === '-h' || first === 'help') {
    console.log(HELP)
    return 0
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    console.log(pkg.version)
    return 0
  }
  const parsed = parseArgs(argv)
  if (typeof parsed === 'string') {
    console.error(`switchboard: ${parsed}\n\n${HELP}`)
    return 2
  }
  const [cmd = 'serve', ...rest] = parsed.words
  const usage = (line: string) => {
    console.error(`usage: ${line}`)
    return 2
  }
  const arity: Record<string, number> = { serve: 0, migrate: 0, healthcheck: 0 }
  if (cmd in arity && rest.length > arity[cmd]!)
    return usage(`switchboard ${cmd} takes no argument (got "${rest.join(' ')}")`)
  if (parsed.switches.size > 0 && cmd !== 'healthcheck')
    return usage('--ready is an option of `switchboard healthcheck`')
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig({ ...process.env, ...parsed.env })
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`switchboard: invalid configuration\n  ${e.message.split('\n').join('\n  ')}`)
      return 2
    }
    throw e
  }
  switch (cmd) {
    case 'serve': {
      const running = await startServer(config, {
        // The one-time key goes to the terminal (stderr), never into the JSON log on stdout.
        onBootstrapKey: (key) => {
          process.stderr.write(
            `\nCreated workspace "default". Its key is shown this once; store it now:\n\n  ${key}\n\n`,
          )
        },
      })
      const shutdown = (signal: string) => {
        running.deps.log.info('shutting down', { signal, graceMs: config.shutdownGraceMs })
        // A stop that overruns its grace (a hung close) must not keep the process: leave anyway.
        setTimeout(() => {
          running.deps.log.error('stop overran the shutdown grace; exiting')
          process.exit(1)
        }, config.shutdownGraceMs + 1000).unref()
        running.stop().then(
          () => process.exit(0),
          (e) => {
            console.error(e)
            process.exit(1)
          },
        )
      }
      process.once('SIGTERM', () => shutdown('SIGTERM'))
      process.once('SIGINT', () => shutdown('SIGINT'))
      return -1
    }
    case 'healthcheck': {
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
      const path = parsed.switches.has('--ready') ? '/readyz' : '/healthz'
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}${path}`
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(3000) })
        if (res.ok) return 0
        console.error(`switchboard healthcheck: ${url} answered ${res.status}`)
      } catch (e) {
        console.error(`switchboard healthcheck: ${url}: ${e instanceof Error ? e.message : e}`)
      }
      return 1
    }
    case 'migrate': {
      const deps = await buildDeps({ ...config })
      deps.log.info('migrations applied', { database: deps.db.dialect })
      await deps.db.close()
      return 0
    }
    case 'workspace':
      return workspaceCommand(config, rest, usage)
    default:
      console.error(`switchboard: unknown command "${cmd}"\n\n${HELP}`)
      return 2
  }
}

async function workspaceCommand(
  config: ReturnType<typeof loadConfig>,
  [sub, name, ...extra]: string[],
  usage: (line: string) => number,
): Promise<number> {
  const line = 'switchboard workspace create NAME | key NAME | list'
  if (sub === 'list' ? name !== undefined : !name || extra.length > 0 || (sub !== 'create' && sub !== 'key'))
    return usage(line)
  const deps = await buildDeps(config)
  try {
    if (sub === 'list') {
      let cursor: string | undefined
      do {
        const page = await listWorkspaces({ deps, input: { limit: 100, ...(cursor ? { cursor } : {}) } })
        for (const w of page.workspaces) console.log(`${w.id}  ${w.createdAt}  ${w.name}`)
        cursor = page.nextCursor ?? undefined
      } while (cursor)
      return 0
    }
    if (sub === 'key') {
      const { workspace, apiKey } = await issueWorkspaceKey({
        deps,
        actor: { kind: 'admin' },
        input: { workspaceName: name!, name: 'issued by the CLI' },
      })
      console.log(
        `New key for workspace "${workspace.name}" (${workspace.id}). It is shown this once; the old keys stay valid until revoked:\n\n  ${apiKey}\n`,
      )
      return 0
    }
    const { workspace, apiKey } = await createWorkspace({
      deps,
      actor: { kind: 'admin' },
      input: { name: name! },
    })
    console.log(
      `Created workspace "${workspace.name}" (${workspace.id}). Its key is shown this once:\n\n  ${apiKey}\n`,
    )
    return 0
  } catch (e) {
    if (e instanceof AppError) {
      console.error(`switchboard: ${e.message}`)
      return 1
    }
    throw e
  } finally {
    await deps.db.close()
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (e) => {
    console.error('switchboard: fatal:', e instanceof Error ? e.message : e)
    process.exit(1)
  },
)
