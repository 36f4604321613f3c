import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { liveServer } from '../helpers'
import { requirePromtool } from './fixtures'

/**
 * The ready-made Grafana dashboard and Prometheus alert rules in docs/: well-formed, valid for
 * promtool, and asking only for metrics Switchboard serves (a renamed metric would leave a
 * panel or an alert silently empty).
 */
const docs = join(import.meta.dir, '../../docs')
const sb = await liveServer()
const served = new Set(
  [...(await (await fetch(`${sb.url}/metrics`)).text()).matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(
    ([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!]),
  ),
)
const metricsIn = (expr: string) =>
  [...expr.matchAll(/\b((?:switchboard|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]!)

describe('the Grafana dashboard', async () => {
  const dashboard = await Bun.file(join(docs, 'grafana/switchboard.json')).json()
  const panels = (dashboard.panels as any[]).filter((p) => p.type !== 'row')

  test('is a dashboard with a datasource and an instance variable, and no two panels overlap', () => {
    expect(dashboard).toMatchObject({ title: 'Switchboard', uid: 'switchboard' })
    expect(dashboard.templating.list.map((v: any) => v.name)).toEqual(['datasource', 'instance'])
    const cells = new Set<string>()
    for (const p of dashboard.panels as any[]) {
      const { x, y, w, h } = p.gridPos
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`)).toBe(false)
          cells.add(`${i},${j}`)
        }
    }
  })

  test('every query asks for metrics Switchboard serves', () => {
    const asked = panels.flatMap((p) => p.targets.flatMap((t: any) => metricsIn(t.expr)))
    expect(asked.length).toBeGreaterThan(40)
    expect(asked.filter((m) => !served.has(m))).toEqual([])
  })

  test('the panels an operator asks for are there', () => {
    const titles = panels.map((p) => p.title).join('\n')
    for (const t of [
      'Upstream error ratio by lane',
      'Callback outbox',
      'Slowest agents',
      'Cache hit rate',
      'Connections',
    ])
      expect(titles).toContain(t)
  })
})

describe('the Prometheus alert rules', async () => {
  const rules = await Bun.file(join(docs, 'prometheus/alerts.yml')).text()
  const parsed = Bun.YAML.parse(rules) as { groups: { rules: { alert: string; expr: string }[] }[] }
  const alerts = parsed.groups.flatMap((g) => g.rules)

  test('callback backlog, lane error rate, no leader, database unavailable', () => {
    expect(alerts.map((a) => a.alert)).toEqual([
      'SwitchboardCallbackBacklogGrowing',
      'SwitchboardLaneErrorRate',
      'SwitchboardNoLeader',
      'SwitchboardDatabaseUnavailable',
    ])
    const asked = alerts.flatMap((a) => metricsIn(a.expr))
    expect(asked.filter((m) => !served.has(m))).toEqual([])
  })

  test.skipIf(!requirePromtool)('promtool check rules and promtool test rules pass', async () => {
    for (const args of [
      ['check', 'rules', 'alerts.yml'],
      ['test', 'rules', 'alerts.test.yml'],
    ]) {
      const p = Bun.spawn(['promtool', ...args], {
        cwd: join(docs, 'prometheus'),
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const out = `${await new Response(p.stdout).text()}${await new Response(p.stderr).text()}`
      expect({ args, code: await p.exited }).toEqual({ args, code: 0 })
      expect(out).toContain('SUCCESS')
    }
  })
})
