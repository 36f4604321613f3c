import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { onPostgres, tempDir } from '../helpers'

/**
 * The compiled binary, started as a user would: in an empty directory, nothing beside it.
 */
const root = join(import.meta.dir, '../..')
const bin = join(tempDir('sb-bin-'), 'switchboard')
const procs: Bun.Subprocess[] = []

beforeAll(async () => {
  const build = Bun.spawn(
    [
      process.execPath,
      'build',
      'src/main.ts',
      '--compile',
      '--bytecode',
      '--format=esm',
      '--no-compile-autoload-dotenv',
      '--no-compile-autoload-bunfig',
      '--outfile',
      bin,
    ],
    { cwd: root, stdout: 'pipe', stderr: 'pipe' },
  )
  expect(await build.exited).toBe(0)
}, 120_000)
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL')
})

/** Starts the binary on a free port; resolves once it logs that it listens. */
async function start(cwd: string) {
  const proc = Bun.spawn([bin, 'serve'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  procs.push(proc)
  let out = ''
  const reader = proc.stdout.getReader()
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`binary exited early: ${out}`)
    out += new TextDecoder().decode(value)
    const m = /"msg":"listening","url":"(http:\/\/[^"]+?)\/?"/.exec(out)
    if (m) {
      reader.releaseLock()
      return { proc, url: m[1]!, out }
    }
  }
}

describe.skipIf(onPostgres)('compiled binary', () => {
  test('starts on an empty directory: bootstrap key once, health, docs without a CDN', async () => {
    const dir = tempDir('sb-empty-')
    const first = await start(dir)
    const key = /\n {2}(wk_[0-9A-Za-z]{38})\n/.exec(first.out)?.[1]
    expect(key).toBeTruthy()
    expect(await (await fetch(`${first.url}/healthz`)).json()).toEqual({ status: 'ok' })
    const docs = await (await fetch(`${first.url}/docs`)).text()
    expect(docs).toContain('/docs/assets/swagger-ui-bundle.js')
    expect(docs).not.toMatch(/https?:\/\//)
    expect((await fetch(`${first.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200)
    const spec: any = await (await fetch(`${first.url}/docs/json`)).json()
    expect(Object.keys(spec.paths)).toContain('/api/agents')
    const me = await fetch(`${first.url}/api/workspace`, { headers: { authorization: `Bearer ${key}` } })
    expect(((await me.json()) as any).name).toBe('default')

    // SIGTERM: drains and exits cleanly.
    first.proc.kill('SIGTERM')
    expect(await first.proc.exited).toBe(0)

    // Second start on the same directory: no new workspace, no key printed.
    const second = await start(dir)
    expect(second.out).not.toContain('wk_')
    const again = await fetch(`${second.url}/api/workspace`, { headers: { authorization: `Bearer ${key}` } })
    expect(again.status).toBe(200)
    second.proc.kill('SIGTERM')
    expect(await second.proc.exited).toBe(0)
  }, 60_000)

  test('serves the console it carries: the page at every console address, its assets, sign-in', async () => {
    const dir = tempDir('sb-console-')
    const { proc, url, out } = await start(dir)
    const key = /\n {2}(wk_[0-9A-Za-z]{38})\n/.exec(out)![1]!
    for (const path of ['/', '/agents/register', '/agents/agt-abcd1234/health']) {
      const page = await fetch(`${url}${path}`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toStartWith('text/html')
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
      const html = await page.text()
      expect(html).toContain('<div id="app">')
      const assets = [...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!)
      expect(assets.length).toBe(2)
      for (const a of assets) {
        const res = await fetch(`${url}/${a}`)
        expect(res.status).toBe(200)
        expect((await res.text()).length).toBeGreaterThan(a.endsWith('.js') ? 10_000 : 1000)
      }
    }
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    })
    expect(signIn.status).toBe(200)
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    expect((await fetch(`${url}/api/agents`, { headers: { cookie } })).status).toBe(200)
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  }, 60_000)

  test('a bad setting stops it with one clear line', async () => {
    const proc = Bun.spawn([bin], { cwd: tempDir(), env: { PORT: 'eighty' }, stdout: 'pipe', stderr: 'pipe' })
    expect(await proc.exited).toBe(2)
    expect(await new Response(proc.stderr).text()).toContain('PORT: ')
  })

  test('migrate and workspace create', async () => {
    const dir = tempDir('sb-cli-')
    const env = { PATH: process.env.PATH ?? '' }
    const migrate = Bun.spawn([bin, 'migrate'], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe' })
    expect(await migrate.exited).toBe(0)
    const create = Bun.spawn([bin, 'workspace', 'create', 'acme'], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await create.exited).toBe(0)
    expect(await new Response(create.stdout).text()).toMatch(
      /Created workspace "acme" .*\n\n {2}wk_[0-9A-Za-z]{38}\n/s,
    )
    const dup = Bun.spawn([bin, 'workspace', 'create', 'acme'], {
      cwd: dir,
      env,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await dup.exited).toBe(1)
    expect(await new Response(dup.stderr).text()).toContain('already exists')
  })

  test('--version and --help', async () => {
    const v = Bun.spawn([bin, '--version'], { stdout: 'pipe' })
    expect((await new Response(v.stdout).text()).trim()).toMatch(/^\d+\.\d+\.\d+$/)
    const h = Bun.spawn([bin, '--help'], { stdout: 'pipe' })
    expect(await new Response(h.stdout).text()).toContain('workspace create NAME')
  })
})
