import { describe, expect, test } from 'bun:test'
import { and, asc, eq } from 'drizzle-orm'
import { definedMatch, SCAN_AHEAD, shortScan } from '../../src/modules/agents/search'
import { harness, registerAgent } from '../helpers'

/** What a user sees of `GET /api/agents?q=` (ADR 0016): the same answers with or without the index. */
const h = await harness()

const list = async (key: string, query: string) => {
  const res = await h.call('GET', `/api/agents?${query}`, { token: key })
  expect(res.status).toBe(200)
  return res.body as { agents: { id: string; name: string }[]; nextCursor: string | null }
}
const names = async (key: string, q: string, more = '') =>
  (await list(key, `q=${encodeURIComponent(q)}&limit=500${more}`)).agents.map((a) => a.name)

/** Every page of a query, `limit` at a time: the ids in the order they came. */
async function allPages(key: string, query: string, limit: number) {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page = await list(key, `${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
    expect(page.agents.length).toBeLessThanOrEqual(limit)
    ids.push(...page.agents.map((a) => a.id))
    cursor = page.nextCursor
  } while (cursor)
  return ids
}

describe('GET /api/agents?q=', () => {
  test('a substring of the name or of the description, in any case, of 1, 2 or more characters', async () => {
    const { key } = await h.workspace()
    await registerAgent(h, key, { name: 'Alpha Scout', description: 'Reads the weather' })
    await registerAgent(h, key, { name: 'beta', description: 'Writes REPORTS about alphas' })
    await registerAgent(h, key, { name: 'gamma' })
    expect(await names(key, 'alpha')).toEqual(['Alpha Scout', 'beta'])
    expect(await names(key, 'ALPHA')).toEqual(['Alpha Scout', 'beta'])
    expect(await names(key, 'reports about')).toEqual(['beta'])
    expect(await names(key, 'ha s')).toEqual(['Alpha Scout'])
    expect(await names(key, 'has')).toEqual(['beta'])
    expect(await names(key, 'Weather')).toEqual(['Alpha Scout'])
    expect(await names(key, 'mma')).toEqual(['gamma'])
    expect(await names(key, 'mm')).toEqual(['gamma'])
    expect(await names(key, 'G')).toEqual(['gamma'])
    expect(await names(key, 'a')).toEqual(['Alpha Scout', 'beta', 'gamma'])
    expect(await names(key, 'alphas!')).toEqual([])
    expect(await names(key, 'zz')).toEqual([])
    expect(await names(key, 'gammaa')).toEqual([])
  })

  test('%, _, backslash and double quotes are taken literally', async () => {
    const { key } = await h.workspace()
    for (const name of ['100% sure', '1000 pct', 'snake_case', 'snakeXcase', 'back\\slash', 'say "hi" now'])
      await registerAgent(h, key, { name })
    expect(await names(key, '100%')).toEqual(['100% sure'])
    expect(await names(key, '%')).toEqual(['100% sure'])
    expect(await names(key, '0% s')).toEqual(['100% sure'])
    expect(await names(key, '_')).toEqual(['snake_case'])
    expect(await names(key, 'e_c')).toEqual(['snake_case'])
    expect(await names(key, 'snake_')).toEqual(['snake_case'])
    expect(await names(key, '\\')).toEqual(['back\\slash'])
    expect(await names(key, 'k\\s')).toEqual(['back\\slash'])
    expect(await names(key, '"hi"')).toEqual(['say "hi" now'])
    expect(await names(key, '"')).toEqual(['say "hi" now'])
    expect(await names(key, '%%%')).toEqual([])
  })

  test('unicode: characters, not bytes or UTF-16 units', async () => {
    const { key } = await h.workspace()
    await registerAgent(h, key, { name: 'café crème' })
    await registerAgent(h, key, { name: '日本語のエージェント' })
    await registerAgent(h, key, { name: 'robot', description: 'helps 🤖 humans' })
    expect(await names(key, 'café')).toEqual(['café crème'])
    expect(await names(key, 'CAFÉ')).toEqual(['café crème'])
    expect(await names(key, 'é c')).toEqual(['café crème'])
    expect(await names(key, 'cafe')).toEqual([])
    expect(await names(key, '日本語')).toEqual(['日本語のエージェント'])
    expect(await names(key, '本語')).toEqual(['日本語のエージェント'])
    expect(await names(key, 'ェ')).toEqual(['日本語のエージェント'])
    expect(await names(key, '🤖')).toEqual(['robot'])
    expect(await names(key, 's 🤖')).toEqual(['robot'])
    expect(await names(key, '🤖 h')).toEqual(['robot'])
    expect(await names(key, '🤖🤖')).toEqual([])
  })

  test('follows renames, description changes and deletions', async () => {
    const { key } = await h.workspace()
    const a = await registerAgent(h, key, { name: 'old-name', description: 'first words' })
    const patch = (body: object) => h.call('PATCH', `/api/agents/${a.id}`, { token: key, body })
    expect(await names(key, 'old-name')).toEqual(['old-name'])
    expect((await patch({ name: 'new-name' })).status).toBe(200)
    expect(await names(key, 'old-name')).toEqual([])
    expect(await names(key, 'new-name')).toEqual(['new-name'])
    expect(await names(key, 'first')).toEqual(['new-name'])
    expect((await patch({ description: 'second words' })).status).toBe(200)
    expect(await names(key, 'first')).toEqual([])
    expect(await names(key, 'second')).toEqual(['new-name'])
    expect((await patch({ description: null })).status).toBe(200)
    expect(await names(key, 'second')).toEqual([])
    expect(await names(key, 'words')).toEqual([])
    // A change of another field keeps it findable.
    expect((await patch({ label: 'prod' })).status).toBe(200)
    expect(await names(key, 'new-name')).toEqual(['new-name'])
    expect((await h.call('DELETE', `/api/agents/${a.id}`, { token: key })).status).toBeLessThan(300)
    expect(await names(key, 'new-name')).toEqual([])
    expect(await names(key, 'ne')).toEqual([])
  })

  test('pages through the matches with the cursor, in id order', async () => {
    const { key } = await h.workspace()
    const matching: string[] = []
    for (let i = 0; i < 9; i++) {
      const a = await registerAgent(h, key, { name: i % 3 === 1 ? `other-${i}` : `match-${i}` })
      if (i % 3 !== 1) matching.push(a.id)
    }
    for (const limit of [1, 2, 5])
      for (const q of ['match', 'mat', 'ma', 'm', 'MATCH-'])
        expect(await allPages(key, `q=${q}`, limit)).toEqual(matching)
  })

  test('a q of 1 or 2 characters reads a bounded stretch of agents a page, and the cursor goes on from it', async () => {
    const { key } = await h.workspace()
    const ids: string[] = []
    for (let i = 0; i < 11; i++)
      ids.push((await registerAgent(h, key, { name: [1, 8, 9].includes(i) ? `zq-${i}` : `agent-${i}` })).id)
    const budget = shortScan.agents
    shortScan.agents = 3
    try {
      // The first three agents hold one match: the page ends there, with a cursor.
      const first = await list(key, 'q=zq&limit=50')
      expect(first.agents.map((a) => a.id)).toEqual([ids[1]!])
      expect(first.nextCursor).not.toBeNull()
      // Agents 3–5 hold none: an empty page that still goes on.
      const second = await list(key, `q=zq&limit=50&cursor=${first.nextCursor}`)
      expect(second.agents).toEqual([])
      expect(second.nextCursor).not.toBeNull()
      // Following the cursor gives every match once, in id order, whatever the page size.
      for (const limit of [1, 2, 50]) {
        expect(await allPages(key, 'q=zq', limit)).toEqual([ids[1]!, ids[8]!, ids[9]!])
        expect(await allPages(key, 'q=z', limit)).toEqual([ids[1]!, ids[8]!, ids[9]!])
      }
      // A page that fills inside the stretch ends at its last item, as any page does.
      const full = await list(key, 'q=ag&limit=2')
      expect(full.agents.map((a) => a.id)).toEqual([ids[0]!, ids[2]!])
      // Three characters or more read the index, not a stretch: one page has them all.
      const indexed = await list(key, 'q=zq-&limit=50')
      expect(indexed.agents.map((a) => a.id)).toEqual([ids[1]!, ids[8]!, ids[9]!])
      expect(indexed.nextCursor).toBeNull()
    } finally {
      shortScan.agents = budget
    }
  })

  test("never another workspace's agents", async () => {
    const mine = await h.workspace()
    const theirs = await h.workspace()
    const a = await registerAgent(h, mine.key, { name: 'shared-name', description: 'secret plans' })
    const b = await registerAgent(h, theirs.key, { name: 'shared-name', description: 'secret plans' })
    for (const q of ['shared-name', 'secret', 'se', 's']) {
      expect((await list(mine.key, `q=${q}`)).agents.map((x) => x.id)).toEqual([a.id])
      expect((await list(theirs.key, `q=${q}`)).agents.map((x) => x.id)).toEqual([b.id])
    }
  })

  test('combined with presence, label and capability filters', async () => {
    const { key } = await h.workspace()
    const idle = await registerAgent(h, key, { name: 'finder-idle', capabilities: [{ name: 'search' }] })
    await registerAgent(h, key, { name: 'finder-offline', label: 'prod', capabilities: [{ name: 'search' }] })
    await registerAgent(h, key, { name: 'finder-plain' })
    await registerAgent(h, key, { name: 'loner', capabilities: [{ name: 'search' }] })
    const beat = await h.call('POST', `/api/agents/${idle.id}/heartbeat`, {
      token: idle.token,
      body: { status: 'idle' },
    })
    expect(beat.status).toBe(200)
    for (const q of ['finder', 'fi']) {
      expect(await names(key, q, '&presence=idle')).toEqual(['finder-idle'])
      expect(await names(key, q, '&presence=offline')).toEqual(['finder-offline', 'finder-plain'])
      expect(await names(key, q, '&online=false')).toEqual(['finder-idle', 'finder-offline', 'finder-plain'])
      expect(await names(key, q, '&capability=search')).toEqual(['finder-idle', 'finder-offline'])
      expect(await names(key, q, '&capability=search&presence=offline')).toEqual(['finder-offline'])
      expect(await names(key, q, '&label=prod')).toEqual(['finder-offline'])
      expect(await names(key, q, '&capability=nothing')).toEqual([])
    }
  })

  test('a big workspace: matches near the cursor, far past it, and a q that most agents match', async () => {
    const { key, ids, needles } = await bigWorkspace()
    expect((await list(key, 'q=needle&limit=50')).agents.map((a) => a.id)).toEqual(needles)
    for (const limit of [1, 2, 3]) expect(await allPages(key, 'q=needle', limit)).toEqual(needles)
    // From a cursor past the first matches, and past all of them.
    const deep = await list(key, `q=needle&cursor=${cursorAt(ids[SCAN_AHEAD]!)}`)
    expect(deep.agents.map((a) => a.id)).toEqual(needles.slice(2))
    expect((await list(key, `q=needle&cursor=${cursorAt(ids.at(-1)!)}`)).agents).toEqual([])
    expect((await list(key, `q=${encodeURIComponent('NEEDLE 2')}`)).agents.map((a) => a.id)).toEqual(
      needles.slice(2),
    )
    // A q that every bulk agent matches, through every page; and one of 2 characters.
    const bulk = ids.filter((_, i) => ODD[i - SCAN_AHEAD - 400] === undefined)
    expect(await allPages(key, 'q=bulk-', 500)).toEqual(bulk)
    expect(await allPages(key, 'q=k-', 500)).toEqual(bulk)
  })

  test('a big workspace: the index never changes an answer', async () => {
    const { key, workspaceId } = await bigWorkspace()
    const t = h.deps.db.t.agents
    // What the predicate alone says, read in id order without any index's help.
    const truth = async (q: string) =>
      (
        await h.deps.db.orm
          .select({ id: t.id })
          .from(t)
          .where(and(eq(t.workspaceId, workspaceId), eq(t.archived, false), definedMatch(t, q)))
          .orderBy(asc(t.id))
      ).map((r) => r.id)
    for (const q of [
      'école',
      'ÉCOLE',
      'Élan',
      'cole é',
      'ünïcödé',
      '"quoted"',
      '" 100%_',
      '%_x',
      'x\\y',
      '語のエ',
      '🤖 h',
      'b\th',
      'istanbul',
      'İst',
      'ǆung',
      'σίσυφος',
      'ΣΊΣ',
      'r 26',
      'needle 2',
      '   ',
      'zz-',
    ]) {
      const expected = await truth(q)
      expect(await allPages(key, `q=${encodeURIComponent(q)}`, 500), q).toEqual(expected)
    }
    // Not vacuous: they match past the id-order read. ('ÉCOLE' too on Postgres, whose lower()
    // folds more than ASCII; SQLite's does not, and the index keeps each dialect's answer.)
    expect((await truth('école')).length).toBeGreaterThan(0)
    expect(await truth('"quoted"')).toHaveLength(1)
  })

  test('a big workspace: renames, deletions, other workspaces and filters far past the cursor', async () => {
    const { key, ids, needles } = await bigWorkspace()
    const patch = (id: string, body: object) => h.call('PATCH', `/api/agents/${id}`, { token: key, body })
    const found = async (q: string, more = '') =>
      (await list(key, `q=${encodeURIComponent(q)}&limit=50${more}`)).agents.map((a) => a.id)
    const [n0, n1, n2, n3, n4] = needles as [string, string, string, string, string]
    expect((await patch(n2, { description: 'nothing here' })).status).toBe(200)
    expect((await patch(ids[SCAN_AHEAD + 200]!, { name: 'another needle' })).status).toBe(200)
    expect((await patch(n3, { name: 'renamed needle', description: null })).status).toBe(200)
    expect((await h.call('DELETE', `/api/agents/${n4}`, { token: key })).status).toBeLessThan(300)
    const now = [n0, n1, ids[SCAN_AHEAD + 200]!, n3]
    expect(await found('needle')).toEqual(now)
    expect(await found('renamed')).toEqual([n3])
    expect(await found('holds the')).toEqual([n0, n1])
    // Another workspace's needle, and a capability and a label on one of ours.
    const other = await h.workspace()
    const outsider = await registerAgent(h, other.key, { name: 'outsider needle' })
    expect(await found('needle')).toEqual(now)
    expect((await list(other.key, 'q=needle')).agents.map((a) => a.id)).toEqual([outsider.id])
    expect(
      (
        await h.call('PUT', `/api/agents/${n3}/capabilities`, {
          token: key,
          body: { capabilities: [{ name: 'sew' }] },
        })
      ).status,
    ).toBe(200)
    expect((await patch(ids[SCAN_AHEAD + 200]!, { label: 'far' })).status).toBe(200)
    expect(await found('needle', '&capability=sew')).toEqual([n3])
    expect(await found('needle', '&label=far')).toEqual([ids[SCAN_AHEAD + 200]!])
    expect(await found('needle', '&presence=offline')).toEqual(now)
    expect(await found('needle', '&presence=idle')).toEqual([])
  })
})

/** Names of a few agents past the id-order read: case, accents, scripts, LIKE's and FTS5's own characters. */
const ODD = [
  'ÉCOLE Élan',
  'école élan',
  'Ünïcödé "quoted" 100%_x\\y',
  '日本語のエージェント',
  'robot 🤖 helper',
  'tab\there',
  'İstanbul',
  'ǅungla',
  'ΣΊΣΥΦΟΣ σίσυφος',
]

/**
 * More agents after the first matches than the id-order read looks at (search.ts), so a page's
 * later matches come from the index on SQLite. Made in SQL; ids sorted to be in id order.
 */
async function bigWorkspace() {
  const { key, id: workspaceId } = await h.workspace()
  const template = await registerAgent(h, key, { name: 'zz-template' })
  const t = h.deps.db.t
  const [row] = await h.deps.db.orm.select().from(t.agents).where(eq(t.agents.id, template.id))
  const ids = Array.from({ length: SCAN_AHEAD + 600 }, () => Bun.randomUUIDv7()).sort()
  const at = [3, 7, SCAN_AHEAD + 100, SCAN_AHEAD + 350, SCAN_AHEAD + 599]
  const rows = ids.map((id, i) => ({
    ...row!,
    id,
    workspaceId,
    permanentId: `agt-${crypto.randomUUID().replaceAll('-', '').slice(0, 8)}`,
    name: ODD[i - SCAN_AHEAD - 400] ?? `bulk-${i}`,
    description: at.includes(i) ? `holds the Needle ${i}` : `agent number ${i}`,
  }))
  for (let i = 0; i < rows.length; i += 500)
    await h.deps.db.orm.insert(t.agents).values(rows.slice(i, i + 500))
  return { key, workspaceId, ids, needles: at.map((i) => ids[i]!) }
}

const cursorAt = (id: string) => Buffer.from(JSON.stringify({ after: id })).toString('base64url')
