import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { BrowserContext, Page } from 'playwright-core'
import { onPostgres } from '../helpers'
import { liveServer } from '../ws/live'
import { browser, CHROMIUM, hasChromium, screenshots, seriousViolations } from './browser'
import { cuttableProxy } from './cut-proxy'

/**
 * The console in a real browser (headless Chromium driven by playwright-core), against a
 * live server: what a person does, and what an attacker's page cannot.
 */
if (!hasChromium) {
  console.warn(
    `\n[console browser tests] SKIPPED: no Chromium at ${CHROMIUM}. Install it with\n  apt-get update && apt-get install -y chromium\n`,
  )
  // CI installs it (.ci/run): there, a missing browser is a failure, not a skip.
  if (process.env.CI === 'true') test('Chromium is installed in CI', () => expect(hasChromium).toBe(true))
}

const runs = hasChromium && !onPostgres
const live = runs ? await liveServer() : (null as never)
const ws = runs ? await live.workspace() : (null as never)

describe.skipIf(!runs)('the console in Chromium', () => {
  let context: BrowserContext
  let close: () => Promise<void>
  let page: Page
  const consoleErrors: string[] = []
  const violations: Awaited<ReturnType<typeof seriousViolations>> = []
  const agent = { id: '', permanentId: '', token: '' }

  beforeAll(async () => {
    ;({ context, close } = await browser())
    page = context.pages()[0] ?? (await context.newPage())
    page.on('console', (m) => {
      // 4xx answers the test provokes on purpose are logged by the browser too; anything else counts.
      if (m.type() === 'error' && !/status of 40[01]/.test(m.text())) consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(String(e)))
  }, 60_000)
  afterAll(async () => {
    await close?.()
  })

  const audit = async () => violations.push(...(await seriousViolations(page)))
  const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor()

  test('sign in with the workspace key', async () => {
    await page.goto(`${live.base}/agents`)
    await heading('Sign in to Switchboard')
    await audit()
    await page.getByLabel('Workspace key').fill('wk_wrong')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'not a live workspace key' }).waitFor()
    await page.getByLabel('Workspace key').fill(ws.key)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await heading('My Agents')
    await page.getByText('Live', { exact: true }).waitFor()
    const [cookie] = await context.cookies()
    expect(cookie).toMatchObject({ name: 'sb_session', httpOnly: true, sameSite: 'Strict' })
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).toBe('')
  })

  test('register: API errors next to their field, then the token once with the ids', async () => {
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'Register Agent' })
      .click()
    await heading('Register Agent')
    await audit()
    await screenshots(page, 'register')
    await page.getByLabel('Agent name').fill('research-agent')
    await page.getByLabel('Endpoint URL').fill('ftp://nowhere')
    await page.getByRole('button', { name: 'Register Agent' }).click()
    const url = page.getByLabel('Endpoint URL')
    await page.locator('input[aria-invalid="true"]').first().waitFor()
    expect(await url.getAttribute('aria-invalid')).toBe('true')
    const describedBy = (await url.getAttribute('aria-describedby'))!.split(' ').at(-1)!
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toContain('http(s) URL')
    await url.fill('')
    await page.getByLabel('Label').fill('production')
    await page.getByRole('button', { name: 'Add a capability' }).click()
    await page.getByLabel('Capability 1 name').fill('search')
    await page.getByRole('button', { name: 'Register Agent' }).click()
    await heading('Agent registered')
    agent.token = await page.getByLabel('Agent token').inputValue()
    expect(agent.token).toMatch(/^tk_/)
    await page.getByText('it will not be shown again').waitFor()
    const facts = await page.locator('dl.facts dd').allInnerTexts()
    agent.id = facts[0]!
    agent.permanentId = facts[1]!
    expect(agent.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(agent.permanentId).toMatch(/^agt-[a-z0-9]{8}$/)
    await audit()
    await screenshots(page, 'register-success')
    await page.reload()
    await heading('Register Agent')
    expect(await page.content()).not.toContain(agent.token)
  })

  test('My Agents: the row turns online without a reload when a script heartbeats', async () => {
    await page.goto(`${live.base}/agents`)
    await heading('My Agents')
    const row = page.locator(`tr[data-agent="${agent.id}"]`)
    await row.waitFor()
    const text = await row.textContent()
    expect(text).toContain('offline')
    expect(text).toContain('research-agent')
    expect(text).toContain('search')
    await page.getByText('Live', { exact: true }).waitFor()
    // The curl the page shows, run as it is, with the token filled in.
    const curl = (await page.locator('.code pre').textContent())!.replace(
      'tk_your_agent_token_here',
      agent.token,
    )
    const run = Bun.spawn(['bash', '-c', curl], { stdout: 'pipe', stderr: 'pipe' })
    expect(await run.exited).toBe(0)
    expect(await new Response(run.stdout).text()).toContain('"presence":"online"')
    // No reload: the live stream moves the row.
    await row.locator('.presence-online').waitFor()
    await row.locator('time').waitFor()
    await audit()
    await screenshots(page, 'agents')
    await page.getByLabel('Search').fill('nothing-matches-this')
    await page.getByText('No agent matches these filters.').waitFor()
    expect(page.url()).toContain('q=nothing-matches-this')
    await page.getByRole('button', { name: 'Clear the filters' }).click()
    await row.waitFor()
  })

  test('the live indicator: a dropped stream reconnects by itself with ?since= and misses nothing', async () => {
    const proxy = cuttableProxy({ hostname: '127.0.0.1', port: Number(new URL(live.base).port) })
    const other = await context.newPage()
    try {
      // Cookies ignore ports: the session is good at the proxy's address too.
      await other.goto(`${proxy.url}/agents`)
      await other.getByRole('status').filter({ hasText: 'Live' }).waitFor()
      const row = other.locator(`tr[data-agent="${agent.id}"]`)
      await row.locator('.presence-online').waitFor()
      proxy.hold()
      proxy.cut()
      await other.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor()
      // While the console is cut off, the agent reports idle.
      const beat = await live.call('POST', `/api/agents/${agent.id}/heartbeat`, {
        token: agent.token,
        body: { status: 'idle' },
      })
      expect(beat.status).toBe(200)
      proxy.release()
      await other.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 })
      // No reload and no refetch: the replayed event moved the row.
      await row.locator('.presence-idle').waitFor()
      expect(proxy.requestLines.some((l) => /^GET \/api\/ws\?since=\d+ HTTP/.test(l))).toBe(true)
    } finally {
      await other.close()
      proxy.stop()
    }
  }, 40_000)

  test('manage page: every tab passes axe; rotating ends the old token', async () => {
    await page.goto(`${live.base}/agents/${agent.permanentId}`)
    await heading('research-agent')
    await audit()
    await screenshots(page, 'manage')
    for (const tab of ['Health', 'Audit log', 'Messages and commands', 'Token and credential']) {
      await page.getByRole('navigation', { name: 'Agent sections' }).getByRole('link', { name: tab }).click()
      await page.waitForTimeout(300)
      await audit()
    }
    expect(page.url()).toEndWith(`/agents/${agent.permanentId}/access`)
    await page.reload()
    await page.getByRole('heading', { name: 'Agent token' }).waitFor()
    await page.getByRole('button', { name: 'Rotate the token' }).click()
    const fresh = await page.getByLabel('New agent token').inputValue()
    expect(fresh).toMatch(/^tk_/)
    expect(fresh).not.toBe(agent.token)
    await page.getByText('The previous token stopped working now.').waitFor()
    await screenshots(page, 'manage-rotated')
    const beat = (token: string) =>
      fetch(`${live.base}/api/agents/${agent.id}/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"status":"online"}',
      })
    expect((await beat(agent.token)).status).toBe(401)
    expect((await beat(fresh)).status).toBe(200)
    agent.token = fresh
  })

  test('every other screen passes axe, and deep links survive a reload', async () => {
    for (const [path, title] of [
      ['/connections', 'Connections'],
      ['/groups', 'Groups and Pools'],
      ['/pools', 'Groups and Pools'],
      ['/jobs', 'Jobs'],
      ['/workspace', 'Workspace'],
      ['/audit', 'Audit log'],
      [`/agents/${agent.permanentId}/health`, 'research-agent'],
    ] as const) {
      await page.goto(`${live.base}${path}`)
      await heading(title)
      await page.waitForTimeout(200)
      await audit()
    }
    await page.setViewportSize({ width: 360, height: 800 })
    await page.goto(`${live.base}/agents`)
    await heading('My Agents')
    await audit()
    await page.setViewportSize({ width: 1280, height: 900 })
    expect(violations).toEqual([])
  })

  test('a page of another origin cannot use the session: POST and WebSocket refused', async () => {
    // Another port of the same host is the same site, so the browser does send the
    // SameSite=Strict cookie: the server's Origin check is what stops it.
    const evil = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () =>
        new Response(
          `<!doctype html><script>
            window.results = {}
            fetch('${live.base}/api/agents', { method: 'POST', credentials: 'include', mode: 'no-cors',
              headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ name: 'forged' }) })
              .then(() => (window.results.post = 'sent'), () => (window.results.post = 'failed'))
            const ws = new WebSocket('${live.base.replace('http', 'ws')}/api/ws')
            ws.onopen = () => (window.results.ws = 'open')
            ws.onclose = () => (window.results.ws ??= 'refused')
          </script>`,
          { headers: { 'content-type': 'text/html' } },
        ),
    })
    try {
      const other = await context.newPage()
      await other.goto(`http://127.0.0.1:${evil.port}/`)
      await other.waitForFunction(() => (globalThis as any).results.post && (globalThis as any).results.ws)
      expect(await other.evaluate(() => (globalThis as any).results.ws)).toBe('refused')
      await other.close()
      const agents = await live.call('GET', '/api/agents?q=forged', { token: ws.key })
      expect(agents.body.agents).toEqual([])
      const audit = await live.call('GET', '/api/audit-logs?action=agent_registered', { token: ws.key })
      expect(audit.body.logs).toHaveLength(1)
    } finally {
      evil.stop(true)
    }
  })

  test('deactivate and reactivate; delete only after typing the name', async () => {
    await page.goto(`${live.base}/agents/${agent.permanentId}`)
    await heading('research-agent')
    await page.getByRole('button', { name: 'Deactivate' }).click()
    await page.getByRole('button', { name: 'Reactivate' }).waitFor()
    await page.locator('.title-row .badge', { hasText: 'inactive' }).waitFor()
    const me = () =>
      fetch(`${live.base}/api/agents/me`, { headers: { authorization: `Bearer ${agent.token}` } })
    expect((await me()).status).toBe(401)
    await page.getByRole('button', { name: 'Reactivate' }).click()
    await page.getByRole('button', { name: 'Deactivate' }).waitFor()
    expect((await me()).status).toBe(200)

    const doomed = await live.agent(ws.key, { name: 'doomed' })
    await page.goto(`${live.base}/agents/${doomed.permanentId}/access`)
    await page.getByRole('heading', { name: 'Delete this agent' }).waitFor()
    const del = page.getByRole('button', { name: 'Delete the agent' })
    expect(await del.isDisabled()).toBe(true)
    await page.getByLabel('Type “doomed” to confirm').fill('doome')
    expect(await del.isDisabled()).toBe(true)
    await page.getByLabel('Type “doomed” to confirm').fill('doomed')
    await del.click()
    await heading('My Agents')
    expect((await live.call('GET', `/api/agents/${doomed.id}`, { token: ws.key })).status).toBe(404)
  })

  test('sign out: the cookie no longer works', async () => {
    const [cookie] = await context.cookies()
    const withCookie = () =>
      fetch(`${live.base}/api/agents`, { headers: { cookie: `${cookie!.name}=${cookie!.value}` } })
    expect((await withCookie()).status).toBe(200)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await heading('Sign in to Switchboard')
    expect((await withCookie()).status).toBe(401)
    expect(await context.cookies()).toEqual([])
    expect(consoleErrors).toEqual([])
  })
})
