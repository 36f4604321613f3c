#!/usr/bin/env bun
import pkg from '../package.json'
import { ConfigError, loadConfig } from './config'
import { AppError } from './lib/errors'
import { createWorkspace } from './modules/workspaces/service'
import { buildDeps, startServer } from './server'

const HELP = `switchboard ${pkg.version} — registry and gateway for AI agents

Usage:
  switchboard [serve]               start the server (default)
  switchboard migrate               apply database migrations and exit
  switchboard workspace create NAME create a workspace and print its key once
  switchboard --help | --version

Configuration is read from the environment (PORT, HOST, DATABASE_URL, SWITCHBOARD_*);
see the README for every variable.`

async function main(argv: string[]): Promise<number> {
  const [cmd = 'serve', ...rest] = argv
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP)
    return 0
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    console.log(pkg.version)
    return 0
  }
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.env)
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
        onBootstrapKey: (key) => {
          process.stdout.write(
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
    case 'migrate': {
      const deps = await buildDeps({ ...config })
      deps.log.info('migrations applied', { database: deps.db.dialect })
      await deps.db.close()
      return 0
    }
    case 'workspace': {
      const [sub, name] = rest
      if (sub !== 'create' || !name) {
        console.error('usage: switchboard workspace create NAME')
        return 2
      }
      const deps = await buildDeps(config)
      try {
        const { workspace, apiKey } = await createWorkspace({
          deps,
          actor: { kind: 'admin' },
          input: { name },
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
    default:
      console.error(`switchboard: unknown command "${cmd}"\n\n${HELP}`)
      return 2
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
