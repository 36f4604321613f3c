/** A small Prometheus registry: counters, gauges and histograms with labels, text exposition. */
type Labels = Record<string, string>

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

// Label sets are rendered once and remembered: this runs on every request.
const keyCache = new Map<string, string>()
function key(labels: Labels): string {
  let raw = ''
  for (const k in labels) raw += `${k}\u0000${labels[k]}\u0001`
  let rendered = keyCache.get(raw)
  if (rendered === undefined) {
    rendered = Object.entries(labels)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',')
    if (keyCache.size < 10_000) keyCache.set(raw, rendered)
  }
  return rendered
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: string,
  ) {}
  abstract lines(): string[]
}

export class Counter extends Metric {
  private values = new Map<string, number>()
  constructor(name: string, help: string) {
    super(name, help, 'counter')
  }
  inc(labels: Labels = {}, by = 1) {
    const k = key(labels)
    this.values.set(k, (this.values.get(k) ?? 0) + by)
  }
  lines() {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`)
  }
}

export class Gauge extends Metric {
  constructor(
    name: string,
    help: string,
    private readonly read: () => Array<[Labels, number]>,
  ) {
    super(name, help, 'gauge')
  }
  lines() {
    return this.read().map(([l, v]) => {
      const k = key(l)
      return `${this.name}${k ? `{${k}}` : ''} ${v}`
    })
  }
}

export class Histogram extends Metric {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>()
  constructor(
    name: string,
    help: string,
    private readonly buckets: number[],
  ) {
    super(name, help, 'histogram')
  }
  observe(labels: Labels, value: number) {
    const k = key(labels)
    let s = this.series.get(k)
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(k, s)
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++
    s.sum += value
    s.count++
  }
  lines() {
    const out: string[] = []
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : ''
      this.buckets.forEach((b, i) => {
        out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`)
      })
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`)
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`)
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`)
    }
    return out
  }
}

export class Registry {
  private metrics: Metric[] = []
  register<M extends Metric>(m: M): M {
    this.metrics.push(m)
    return m
  }
  counter(name: string, help: string) {
    return this.register(new Counter(name, help))
  }
  histogram(name: string, help: string, buckets: number[]) {
    return this.register(new Histogram(name, help, buckets))
  }
  gauge(name: string, help: string, read: () => Array<[Labels, number]>) {
    return this.register(new Gauge(name, help, read))
  }
  render(): string {
    const out: string[] = []
    for (const m of this.metrics) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.lines())
    }
    return `${out.join('\n')}\n`
  }
}
