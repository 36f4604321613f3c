/**
 * Reads a V8/JSC `.cpuprofile` (what `bun --cpu-prof` writes) and ranks its frames by self
 * time and by total time (the frame or anything it called), as shares of the samples.
 */
import { readFileSync } from 'node:fs'

type Node = {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] }
export type Frame = { name: string; share: number }

const label = (n: Node) => {
  const f = n.callFrame
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*?\/(src|node_modules)\//, '$1/')
  return `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`
}

export function summarise(path: string, top = 20): { self: Frame[]; total: Frame[]; idle: number } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let all = 0
  let idle = 0
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0
    const node = byId.get(id)!
    const name = label(node)
    if (/^\((idle|program|garbage collector)\)/.test(name) && name.startsWith('(idle')) {
      idle += dt
      return
    }
    all += dt
    self.set(name, (self.get(name) ?? 0) + dt)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!)
      if (seen.has(l)) continue
      seen.add(l)
      total.set(l, (total.get(l) ?? 0) + dt)
    }
  })
  const rank = (m: Map<string, number>) =>
    [...m]
      .filter(([name]) => name !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, share: t / all }))
  return { self: rank(self), total: rank(total), idle: idle / (idle + all) }
}

export const printFrames = (title: string, frames: Frame[]) => {
  console.log(`  ${title}`)
  for (const f of frames) console.log(`    ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`)
}

if (import.meta.main && process.argv[4] === 'callees') {
  printFrames(`callees of ${process.argv[3]}`, calleesOf(process.argv[2]!, new RegExp(process.argv[3]!)))
} else if (import.meta.main && process.argv[3] && Number.isNaN(Number(process.argv[3]))) {
  for (const s of stacksThrough(process.argv[2]!, new RegExp(process.argv[3]!)))
    console.log(`${(s.share * 100).toFixed(1).padStart(5)} %  ${s.stack}\n`)
} else if (import.meta.main) {
  const s = summarise(process.argv[2]!, Number(process.argv[3] ?? 25))
  console.log(`idle ${(s.idle * 100).toFixed(0)} % of the samples`)
  printFrames('self time', s.self)
  printFrames('total time', s.total)
}

/** The heaviest call stacks (leaf last) through frames matching `pattern`, for reading a profile by hand. */
export function stacksThrough(path: string, pattern: RegExp, top = 8, depth = 12) {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const stacks = new Map<string, number>()
  let all = 0
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0
    all += dt
    const chain: string[] = []
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
      chain.push(label(byId.get(cur)!))
    const at = chain.findIndex((l) => pattern.test(l))
    if (at < 0) return
    const key = chain
      .slice(Math.max(0, at - 3), at + depth)
      .reverse()
      .join('\n      ← ')
    stacks.set(key, (stacks.get(key) ?? 0) + dt)
  })
  return [...stacks]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, t]) => ({ stack: k, share: t / all }))
}

/** What frames matching `pattern` spend their time in: their direct callees' total time, as shares of all samples. */
export function calleesOf(path: string, pattern: RegExp, top = 25) {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const out = new Map<string, number>()
  let all = 0
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0
    all += dt
    let child: number | undefined
    for (let cur: number | undefined = id; cur !== undefined; child = cur, cur = parent.get(cur)) {
      if (!pattern.test(label(byId.get(cur)!))) continue
      const k = child === undefined ? '(self)' : label(byId.get(child)!)
      out.set(k, (out.get(k) ?? 0) + dt)
      break
    }
  })
  return [...out]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, t]) => ({ name, share: t / all }))
}
