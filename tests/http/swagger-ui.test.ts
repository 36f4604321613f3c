import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { startServer } from '../../src/server'
import { tempDir, testConfig } from '../helpers'

/**
 * Swagger UI as a person sees it, in Debian's headless Chromium (.ci/run installs the
 * `chromium` package when it is missing). Without it locally, the suite says so and skips.
 */
const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium)
  console.warn(`Swagger UI test skipped: no ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`)

/** Quiet, local-only Chromium: nothing but the page under test goes over the network. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

describe.skipIf(!hasChromium)('Swagger UI in headless Chromium', () => {
  let server: Awaited<ReturnType<typeof startServer>>
  let browser: BrowserContext
  const profile = tempDir('sb-chromium-')
  beforeAll(async () => {
    server = await startServer(testConfig({ SWITCHBOARD_BOOTSTRAP: 'false' }))
    // A fresh profile (--user-data-dir) each run.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    })
    // Swagger UI renders a 1.5 MB bundle and the whole document; on a busy 2-core machine that
    // has taken over 20 s. Generous waits: a broken page fails on what it shows, not on time.
    browser.setDefaultTimeout(100_000)
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    rmSync(profile, { recursive: true, force: true })
  })

  async function openDocs(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure()?.errorText}`))
    await page.goto(`${server.url}/docs`)
    await page.locator('.opblock').first().waitFor()
    return { page, errors }
  }

  test('POST /api/agents: permanentId in the 201 schema, and no resolver errors anywhere', async () => {
    const { page, errors } = await openDocs()
    const op = page.locator('#operations-agents-registerAgent')
    await op.locator('.opblock-summary').click()
    const created = op.locator('tr.response[data-code="201"]')
    await created.waitFor()
    await created.getByRole('tab', { name: 'Schema' }).click()
    // RegisteredAgent shows its properties; open `agent` (the Agent schema) all the way down.
    const model = created.locator('.model-example')
    await model
      .locator('.json-schema-2020-12-property', { hasText: 'agent' })
      .getByText('Expand all')
      .first()
      .click()
    await model.getByText('permanentId').first().waitFor()
    const schema = await model.textContent()
    expect(schema).toContain('RegisteredAgent')
    expect(schema).toContain('permanentId')
    expect(schema).toContain('token')

    // The request body's example is the documented one, and errors show their real code.
    const body = await op.locator('.opblock-section-request-body').textContent()
    expect(body).toContain('research-bot')
    const notFound = await op.locator('tr.response[data-code="409"]').textContent()
    expect(notFound).toContain('"code": "conflict"')

    // Swagger UI resolves an operation's references when it opens; open one with hand-written answers too.
    await page.locator('#operations-proxy-callPool .opblock-summary').click()
    await page.locator('#operations-proxy-callPool .responses-wrapper').waitFor()
    const text = await page.locator('body').textContent()
    expect(text).not.toContain('Could not resolve')
    expect(text).not.toContain('Resolver error')
    expect(errors).toEqual([])
    if (process.env.SWAGGER_SCREENSHOT)
      await page.screenshot({ path: process.env.SWAGGER_SCREENSHOT, fullPage: true })
    await page.close()
  }, 240_000)
})
