import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { runHealthSweep } from '../../src/modules/health/sweep'
import { onPostgres, upstream } from '../helpers'
import { eventually, liveServer } from '../ws/live'
import { browser, hasChromium, screenshots, seriousViolations, signIn } from './browser'

/**
 * Editing groups and pools (name, description, who may call, a member's priority) and the
 * agent's health tab updating by itself, in Chromium against a live server. (browser.test.ts
 * says why these skip without Chromium and on Postgres.)
 */
const runs = hasChromium && !onPostgres
// Checks at once when a sweep runs (no spread), and sweeps only when the test runs one.
const live = runs ? await liveServer({ SWITCHBOARD_HEALTH_SPREAD: '0' }) : (null as never)
const ws = runs ? await live.workspace() : (null as never)
let healthy = true
const endpoint = runs ? upstream(() => new Response('ok', { status: healthy ? 200 : 503 })) : (null as never)

describe.skipIf(!runs)('groups, pools and live health in Chromium', () => {
  let page: Page
  let close: () => Promise<void>
  const consoleErrors: string[] = []
  const violations: Awaited<ReturnType<typeof seriousViolations>> = []
  const audit = async () => violations.push(...(await seriousViolations(page)))
  const heading = (name: string) => page.getByRole('heading', { level: 1, name }).waitFor()
  type A = { id: string; permanentId: string; token: string }
  let alpha: A
  let beta: A
  let gamma: A
  const ids = { pool: '', group: '' }

  beforeAll(async () => {
    alpha = await live.agent(ws.key, { name: 'alpha', endpointUrl: `${endpoint.url}/run` })
    beta = await live.agent(ws.key, { name: 'beta' })
    gamma = await live.agent(ws.key, { name: 'gamma' })
    const pool = await live.call('POST', '/api/pools', {
      token: ws.key,
      body: {
        name: 'search-pool',
        strategy: 'round_robin',
        members: [
          { agentId: alpha.id, priority: 0 },
          { agentId: beta.id, priority: 1 },
        ],
      },
    })
    ids.pool = pool.body.id
    const group = await live.call('POST', '/api/broadcast-groups', {
      token: ws.key,
      body: { name: 'reviewers', memberIds: [alpha.id, beta.id] },
    })
    ids.group = group.body.id
    const b = await browser()
    close = b.close
    page = b.context.pages()[0] ?? (await b.context.newPage())
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[0-9]/.test(m.text())) consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(String(e)))
    await signIn(page, live.base, ws.key)
  }, 60_000)
  afterAll(async () => {
    await close?.()
  })

  const pool = () => live.call('GET', `/api/pools/${ids.pool}`, { token: ws.key }).then((r) => r.body)

  test("a pool member's priority: saved in its row, a refused value said next to it", async () => {
    await page.goto(`${live.base}/pools`)
    await heading('Groups and Pools')
    const panel = page.getByRole('region', { name: 'search-pool' })
    const priority = panel.getByLabel('Priority of beta', { exact: true })
    await priority.fill('-1')
    await panel.getByRole('button', { name: 'Save the priority of beta' }).click()
    await panel.locator('input[aria-invalid="true"]').waitFor()
    const errorId = (await priority.getAttribute('aria-describedby'))!
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toMatch(/>=\s*0|too small/i)
    await priority.fill('5')
    await panel.getByRole('button', { name: 'Save the priority of beta' }).click()
    await panel.locator('input[aria-invalid="true"]').waitFor({ state: 'detached' })
    await eventually(
      async () => (await pool()).members.find((m: any) => m.agentId === beta.id).priority === 5,
    )
    expect((await pool()).members.find((m: any) => m.agentId === alpha.id).priority).toBe(0)
    // The row shows what was stored (after the pool's reload).
    expect(await priority.inputValue()).toBe('5')
  })

  test('edit a pool: name, description, strategy and who may call, in one save', async () => {
    const panel = page.getByRole('region', { name: 'search-pool' })
    // The disclosure opens from the keyboard.
    await panel.locator('summary', { hasText: 'Edit the pool' }).focus()
    await page.keyboard.press('Enter')
    await panel.getByLabel(/^Name/).fill('search-pool-2')
    await panel.getByLabel('Description').fill('Searches the web')
    await panel.getByLabel('Strategy').selectOption('failover')
    await panel.getByLabel('Only the agents picked below').check()
    await panel.getByLabel(/^gamma agt-/).check()
    await audit()
    await screenshots(page, 'pools-edit')
    await panel.getByRole('button', { name: 'Save changes' }).click()
    const renamed = page.getByRole('region', { name: 'search-pool-2' })
    await renamed.getByRole('status').filter({ hasText: 'Saved.' }).waitFor()
    await renamed.getByText('Searches the web').first().waitFor()
    await renamed.getByText('May call it: gamma').waitFor()
    expect(await pool()).toMatchObject({
      name: 'search-pool-2',
      description: 'Searches the web',
      strategy: 'failover',
      allowedCallerIds: [gamma.id],
    })
    await audit()
  })

  test('edit a broadcast group: name, description and who may call', async () => {
    await page.goto(`${live.base}/groups`)
    await heading('Groups and Pools')
    const panel = page.getByRole('region', { name: 'reviewers' })
    await panel.getByText('Edit the group').click()
    await panel.getByLabel(/^Name/).fill('reviewers-2')
    await panel.getByLabel('Description').fill('Everyone who reviews drafts')
    await panel.getByLabel('Only the agents picked below').check()
    await panel.getByText('None picked: no agent may call it.').waitFor()
    await panel.getByLabel(/^alpha agt-/).check()
    await panel.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('region', { name: 'reviewers-2' }).getByRole('status').waitFor()
    const group = await live.call('GET', `/api/broadcast-groups/${ids.group}`, { token: ws.key })
    expect(group.body).toMatchObject({
      name: 'reviewers-2',
      description: 'Everyone who reviews drafts',
      allowedCallerIds: [alpha.id],
    })
    // Back to anyone.
    const renamed = page.getByRole('region', { name: 'reviewers-2' })
    await renamed.getByLabel('Any agent of the workspace').check()
    await renamed.getByRole('button', { name: 'Save changes' }).click()
    await renamed.getByText('May call it: any agent of the workspace').waitFor()
    const reopened = await live.call('GET', `/api/broadcast-groups/${ids.group}`, { token: ws.key })
    expect(reopened.body.allowedCallerIds).toBeNull()
    await audit()
  })

  test('the health tab shows new checks without a reload: at once on a presence change, else by its poll', async () => {
    await page.goto(`${live.base}/agents/${alpha.permanentId}/health`)
    await heading('alpha')
    await page.getByText('No health checks yet.').waitFor()
    await page.evaluate(() => {
      ;(globalThis as unknown as { notReloaded: boolean }).notReloaded = true
    })
    const rows = page.locator('table.rows tbody tr')
    // A passing check brings alpha online: agent.status_changed, and the tab refetches.
    expect(await runHealthSweep(live.deps)).toMatchObject({ checked: 1, passed: 1 })
    await rows.first().getByText('passed').waitFor()
    await page.getByText('1 of 1 checks passed').waitFor()
    // A failing check leaves presence as it is (a recent pass still counts): the poll brings it.
    healthy = false
    expect(await runHealthSweep(live.deps)).toMatchObject({ checked: 1, failed: 1 })
    await rows.first().getByText('failed').waitFor({ timeout: 25_000 })
    expect(await rows.count()).toBe(2)
    await page.getByText('1 of 2 checks passed').waitFor()
    expect(await page.getByText('50.0 %').count()).toBe(1)
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    )
    await audit()
    await screenshots(page, 'health-live')
  }, 60_000)

  test('no serious axe finding; no script error', () => {
    expect(violations).toEqual([])
    expect(consoleErrors).toEqual([])
  })
})
