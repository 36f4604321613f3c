import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { standInSaas, tokenEndpoint } from '../apps/fixtures'
import { onPostgres } from '../helpers'
import { liveServer } from '../ws/live'
import { browser, hasChromium, recordAnswers, screenshots, seriousViolations, signIn } from './browser'

/**
 * The App connections page in Chromium against a live server, a stand-in SaaS and a local
 * OAuth2 token endpoint: create (bearer, OAuth2), the hint and never the secret, the curl the
 * page shows run as it is, edit (the secret follows its host), delete. (browser.test.ts says
 * why these skip without Chromium and on Postgres.)
 */
const runs = hasChromium && !onPostgres
const live = runs ? await liveServer() : (null as never)
const ws = runs ? await live.workspace() : (null as never)
const saas = runs ? standInSaas() : (null as never)
const tokens = runs ? tokenEndpoint({ prefix: 'at-' }) : (null as never)
/** A second origin, for moving the base URL. */
const elsewhere = runs ? standInSaas() : (null as never)

const BEARER = 'crm_live_4f9a8b7c6d5e'
const BEARER_2 = 'crm_live_second_9z8y'
const CLIENT_SECRET = 'cs_9b8a7c6d5e4f3a2b'
const SECRETS = [BEARER, BEARER_2, CLIENT_SECRET]

describe.skipIf(!runs)('App connections in Chromium', () => {
  let page: Page
  let close: () => Promise<void>
  let answers: ReturnType<typeof recordAnswers>
  const consoleErrors: string[] = []
  const violations: Awaited<ReturnType<typeof seriousViolations>> = []
  const audit = async () => violations.push(...(await seriousViolations(page)))
  const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor()
  /** The error an input points at with aria-describedby (the last id), once the input is marked invalid. */
  const describedBy = async (label: string | RegExp) => {
    const input = page.getByLabel(label).and(page.locator('[aria-invalid="true"]'))
    await input.waitFor()
    const ids = (await input.getAttribute('aria-describedby'))!.split(' ')
    return page.locator(`[id="${ids.at(-1)}"]`).textContent()
  }
  /** Neither the markup nor any field's current value holds a secret. */
  const expectNoSecretInPage = async () => {
    const html = await page.content()
    const values = await page
      .locator('input, textarea')
      .evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))
    for (const s of SECRETS) {
      expect(html).not.toContain(s)
      expect(values.join('\n')).not.toContain(s)
    }
  }
  let caller: { id: string; permanentId: string; token: string }
  let other: { id: string; permanentId: string; token: string }
  const ids = { crm: '', tickets: '' }

  beforeAll(async () => {
    caller = await live.agent(ws.key, { name: 'crm-caller' })
    other = await live.agent(ws.key, { name: 'bystander' })
    const b = await browser()
    close = b.close
    page = b.context.pages()[0] ?? (await b.context.newPage())
    answers = recordAnswers(page)
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[0-9]/.test(m.text())) consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(String(e)))
    await signIn(page, live.base, ws.key)
  }, 60_000)
  afterAll(async () => {
    await close?.()
  })

  test('the empty page says what to do next, with the execute call an agent makes', async () => {
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'App connections' })
      .click()
    await heading('App connections')
    expect(new URL(page.url()).pathname).toBe('/app-connections')
    await page.getByText('No app connections yet.').waitFor()
    const curl = await page.locator('.empty .code pre').textContent()
    expect(curl).toContain(`${live.base}/api/agents/$AGENT_ID/app-connections/$CONNECTION_ID/execute`)
    expect(curl).toContain('Bearer $AGENT_TOKEN')
    await audit()
    await screenshots(page, 'app-connections-empty')
  })

  test('create a bearer connection: local and API errors next to their field, then the hint and never the secret', async () => {
    // From the keyboard: Tab reaches "New app connection" with a visible focus ring; Enter opens it.
    let focused = ''
    for (let i = 0; i < 40 && focused !== 'New app connection'; i++) {
      await page.keyboard.press('Tab')
      focused = await page.evaluate(
        () => (globalThis as any).document.activeElement?.textContent?.trim() ?? '',
      )
    }
    expect(focused).toBe('New app connection')
    const ring = await page.evaluate(() => {
      const s = (globalThis as any).getComputedStyle((globalThis as any).document.activeElement)
      return { style: s.outlineStyle, width: s.outlineWidth }
    })
    expect(ring).toEqual({ style: 'solid', width: '3px' })
    await page.keyboard.press('Enter')
    await heading('New app connection')
    await page.getByLabel(/^Name/).fill('crm')
    await page.getByLabel('Base URL').fill('ftp://crm.example.com')
    await page.getByRole('button', { name: 'Create app connection' }).click()
    expect(await describedBy('Bearer token')).toContain('Enter the secret')
    await page.getByLabel('Bearer token').fill(BEARER)
    await page.getByRole('button', { name: 'Create app connection' }).click()
    expect(await describedBy('Base URL')).toContain('http(s) URL')
    await page.getByLabel('Base URL').fill(`${saas.url}/v2`)
    await page.getByLabel('Only the agents picked below').check()
    await page.getByText('None picked: no agent may call it.').waitFor()
    await page.getByLabel('crm-caller').check()
    await page.getByLabel('GET', { exact: true }).check()
    await page.getByLabel('POST', { exact: true }).check()
    await page.getByLabel('Allowed path prefixes').fill('/contacts')
    await audit()
    await screenshots(page, 'app-connection-new')
    await page.getByRole('button', { name: 'Create app connection' }).click()
    await heading('crm')
    ids.crm = new URL(page.url()).pathname.split('/').pop()!
    await page.getByRole('status').filter({ hasText: 'ends in 6d5e' }).waitFor()
    await page.locator('dl.facts').getByText('(secret version 1)').waitFor()
    const stored = await live.call('GET', `/api/app-connections/${ids.crm}`, { token: ws.key })
    expect(stored.body).toMatchObject({
      name: 'crm',
      baseUrl: `${saas.url}/v2`,
      auth: { type: 'bearer', secretHint: '6d5e' },
      secretVersion: 1,
      allowedAgentIds: [caller.id],
      allowedMethods: ['GET', 'POST'],
      allowedPathPrefixes: ['/contacts'],
      timeoutMs: null,
    })
    await expectNoSecretInPage()
    await audit()
  })

  test('the curl on the connection page, run as it is with the agent token, reaches the app with the credential', async () => {
    const curl = (await page.locator('.code pre').textContent())!
    expect(curl).toContain(`/api/agents/${caller.id}/app-connections/${ids.crm}/execute`)
    const seen = saas.mark()
    const run = Bun.spawn(['bash', '-c', curl.replace('tk_your_agent_token_here', caller.token)], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await run.exited).toBe(0)
    const answer = JSON.parse(await new Response(run.stdout).text())
    expect(answer).toMatchObject({ status: 200, bodyEncoding: 'json', body: { path: '/v2/contacts' } })
    expect(seen()[0]!.headers.get('authorization')).toBe(`Bearer ${BEARER}`)
    // The bystander is not on the list: the same call is a 404.
    const refused = await live.call('POST', `/api/agents/${other.id}/app-connections/${ids.crm}/execute`, {
      token: other.token,
      body: { method: 'GET', path: '/contacts' },
    })
    expect(refused.status).toBe(404)
  })

  test('create an OAuth2 client-credentials connection through the form', async () => {
    await page.goto(`${live.base}/app-connections/new`)
    await heading('New app connection')
    await page.getByLabel(/^Name/).fill('tickets')
    await page.getByLabel('Base URL').fill(`${saas.url}/api`)
    await page.getByLabel('Auth type').selectOption('oauth2_client_credentials')
    await page.getByLabel('Token URL').fill(tokens.url)
    await page.getByLabel('Client id').fill('switchboard')
    await page.getByLabel('Client secret').fill(CLIENT_SECRET)
    await page.getByLabel('Scopes').fill('tickets.read tickets.write')
    await page.getByLabel('Client authentication').selectOption('client_secret_post')
    await page.getByLabel('Timeout (milliseconds)').fill('5000')
    await audit()
    await page.getByRole('button', { name: 'Create app connection' }).click()
    await heading('tickets')
    ids.tickets = new URL(page.url()).pathname.split('/').pop()!
    await page.getByRole('status').filter({ hasText: 'ends in 3a2b' }).waitFor()
    const stored = await live.call('GET', `/api/app-connections/${ids.tickets}`, { token: ws.key })
    expect(stored.body).toMatchObject({
      auth: {
        type: 'oauth2_client_credentials',
        tokenUrl: tokens.url,
        clientId: 'switchboard',
        scopes: ['tickets.read', 'tickets.write'],
        audience: null,
        clientAuthMethod: 'client_secret_post',
        secretHint: '3a2b',
      },
      secretVersion: 1,
      allowedAgentIds: null,
      timeoutMs: 5000,
    })
    // Any agent may call it: the page's curl, for the agent picked, gets a token from the endpoint first.
    await page.getByLabel('As agent').selectOption(caller.id)
    const curl = (await page.locator('.code pre').textContent())!.replace(
      'tk_your_agent_token_here',
      caller.token,
    )
    const seen = saas.mark()
    const run = Bun.spawn(['bash', '-c', curl], { stdout: 'pipe', stderr: 'pipe' })
    expect(await run.exited).toBe(0)
    expect(JSON.parse(await new Response(run.stdout).text()).status).toBe(200)
    expect(tokens.requests.at(-1)!.form.get('client_secret')).toBe(CLIENT_SECRET)
    expect(seen()[0]!.headers.get('authorization')).toMatch(/^Bearer at-\d+$/)
    await expectNoSecretInPage()
    await audit()
  })

  test('edit: a base URL moved to another origin needs the secret again (the API says so next to it)', async () => {
    await page.goto(`${live.base}/app-connections/${ids.crm}`)
    await heading('crm')
    await page.getByLabel('Base URL').fill(`${elsewhere.url}/v2`)
    await page.getByText('The base URL moves to another origin: enter the secret again.').waitFor()
    await page.getByRole('button', { name: 'Save changes' }).click()
    expect(await describedBy('Bearer token')).toContain('needs the secret again')
    await audit()
    await page.getByLabel('Bearer token').fill(BEARER_2)
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('status').filter({ hasText: 'secret ends in 9z8y, secret version 2' }).waitFor()
    expect(await page.getByLabel('Bearer token').inputValue()).toBe('')
    // A change of rules alone: sent alone, the secret untouched.
    await page.getByLabel('POST', { exact: true }).uncheck()
    await page.getByLabel('Timeout (milliseconds)').fill('2500')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^Saved\.$/ })
      .waitFor()
    const stored = await live.call('GET', `/api/app-connections/${ids.crm}`, { token: ws.key })
    expect(stored.body).toMatchObject({
      baseUrl: `${elsewhere.url}/v2`,
      auth: { type: 'bearer', secretHint: '9z8y' },
      secretVersion: 2,
      allowedMethods: ['GET'],
      timeoutMs: 2500,
    })
    const logs = await live.call('GET', '/api/audit-logs?action=app_connection_updated', { token: ws.key })
    expect(logs.body.logs.map((l: any) => l.metadata.fields)).toContainEqual(['allowedMethods', 'timeoutMs'])
    await expectNoSecretInPage()
  })

  test('edit: an OAuth2 token URL moved elsewhere needs the client secret again', async () => {
    await page.goto(`${live.base}/app-connections/${ids.tickets}`)
    await heading('tickets')
    await page.getByLabel('Token URL').fill(`${elsewhere.url}/oauth/token`)
    await page.getByRole('button', { name: 'Save changes' }).click()
    expect(await describedBy('Client secret')).toContain('client secret again')
    // Scopes alone may change without the secret.
    await page.getByLabel('Token URL').fill(tokens.url)
    await page.getByLabel('Scopes').fill('tickets.read')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('status').filter({ hasText: 'secret ends in 3a2b, secret version 2' }).waitFor()
    const stored = await live.call('GET', `/api/app-connections/${ids.tickets}`, { token: ws.key })
    expect(stored.body.auth).toMatchObject({ scopes: ['tickets.read'], secretHint: '3a2b' })
  })

  test('the list: both connections with their hints; axe; screenshots at 1280 and 360 px', async () => {
    await page.goto(`${live.base}/app-connections`)
    await heading('App connections')
    const crm = page.locator(`tr[data-app="${ids.crm}"]`)
    await crm.waitFor()
    expect(await crm.textContent()).toContain('secret ends in 9z8y, version 2')
    expect(await crm.textContent()).toContain('crm-caller')
    expect(await page.locator(`tr[data-app="${ids.tickets}"]`).textContent()).toContain('any agent')
    await audit()
    await page.setViewportSize({ width: 360, height: 800 })
    await audit()
    await page.setViewportSize({ width: 1280, height: 900 })
    await screenshots(page, 'app-connections')
    await page.goto(`${live.base}/app-connections/${ids.crm}`)
    await heading('crm')
    await screenshots(page, 'app-connection')
    await expectNoSecretInPage()
  })

  test('delete only after typing the name; a missing connection says so', async () => {
    await page.goto(`${live.base}/app-connections/${ids.tickets}`)
    await heading('tickets')
    const del = page.getByRole('button', { name: 'Delete the app connection' })
    expect(await del.isDisabled()).toBe(true)
    await page.getByLabel('Type “tickets” to confirm').fill('ticket')
    expect(await del.isDisabled()).toBe(true)
    await page.getByLabel('Type “tickets” to confirm').fill('tickets')
    await del.click()
    await heading('App connections')
    await page.locator(`tr[data-app="${ids.crm}"]`).waitFor()
    expect(await page.locator(`tr[data-app="${ids.tickets}"]`).count()).toBe(0)
    expect((await live.call('GET', `/api/app-connections/${ids.tickets}`, { token: ws.key })).status).toBe(
      404,
    )
    await page.goto(`${live.base}/app-connections/${ids.tickets}`)
    await heading('App connection not found')
    await audit()
  })

  test('no answer the page received, HTTP or WebSocket, carried a secret; no serious axe finding', async () => {
    const received = await answers.settle()
    expect(received.some((r) => r.url.includes('/api/app-connections'))).toBe(true)
    for (const r of received) for (const s of SECRETS) expect(r.text).not.toContain(s)
    expect(violations).toEqual([])
    expect(consoleErrors).toEqual([])
  })
})
