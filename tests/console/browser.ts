import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'

/** Debian's chromium; the browser tests skip, saying so, where it is not installed. */
export const CHROMIUM = process.env.SWITCHBOARD_CHROMIUM ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

export const SCREENSHOTS = join(import.meta.dir, 'screenshots')

/** A fresh headless Chromium profile (no state shared with any other run), closed and removed after. */
export async function browser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core')
  const profile = mkdtempSync(join(tmpdir(), 'sb-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  })
  return {
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

const axeSource = readFileSync(join(import.meta.dir, '../../node_modules/axe-core/axe.min.js'), 'utf8')

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/**
 * axe-core on the page as it is now: the violations of serious or critical impact. The
 * engine is evaluated through the DevTools protocol, so the page's CSP (no inline script)
 * stays as strict as users get it.
 */
export async function seriousViolations(
  page: Page,
): Promise<{ page: string; id: string; help: string; targets: string[] }[]> {
  await page.evaluate(axeSource)
  const result = (await page.evaluate(() =>
    (globalThis as unknown as { axe: { run(o: unknown): Promise<unknown> } }).axe.run({
      resultTypes: ['violations'],
    }),
  )) as { violations: AxeViolation[] }
  const url = new URL(page.url()).pathname
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ page: url, id: v.id, help: v.help, targets: v.nodes.flatMap((n) => n.target) }))
}

/** Full-page screenshots at 1280 and 360 px wide, kept under tests/console/screenshots/. */
export async function screenshots(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const size = page.viewportSize() ?? { width: 1280, height: 900 }
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 900 })
    await page.waitForTimeout(100)
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true })
  }
  await page.setViewportSize(size)
}

/** Signs the page in with a workspace key through the sign-in screen; lands on My Agents. */
export async function signIn(page: Page, base: string, key: string) {
  await page.goto(`${base}/agents`)
  await page.getByRole('heading', { level: 1, name: 'Sign in to Switchboard' }).waitFor()
  await page.getByLabel('Workspace key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'My Agents' }).waitFor()
}

/**
 * Everything the page receives: each HTTP answer's body and each WebSocket frame, to show a
 * secret never reaches the browser. `settle()` waits for bodies still being read.
 */
export function recordAnswers(page: Page) {
  const received: { url: string; text: string }[] = []
  const pending: Promise<unknown>[] = []
  page.on('response', (r) => {
    pending.push(
      r.text().then(
        (text) => received.push({ url: r.url(), text }),
        () => undefined,
      ),
    )
  })
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => received.push({ url: ws.url(), text: String(f.payload) }))
  })
  return {
    received,
    settle: async () => {
      await Promise.all(pending)
      return received
    },
  }
}
