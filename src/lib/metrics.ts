/**
 * A small Prometheus registry: counters, gauges and histograms with labels, text exposition
 * (format 0.0.4). Hot paths bind a series once (`counter.series(labels)`,
 * `histogram.series(labels)`) and then only add numbers; values that live elsewhere (cache
 * sizes, hit counts kept as plain fields) are read at scrape time (`gauge`, `counterFrom`).
 */
export type Labels = Record<string, string>

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

// Label sets are rendered once and remembered: unbound series render on every call.
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

const sample = (name: string, k: string, v: number) => `${name}${k ? `{${k}}` : ''} ${formatValue(v)}`

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Number.POSITIVE_INFINITY) return '+Inf'
  if (v === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(v)
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract lines(): string[]
}

/** One bound counter series: `inc()` is a field update. */
export type CounterSeries = { value: number }

export class Counter extends Metric {
  private values = new Map<string, CounterSeries>()
  constructor(name: string, help: string) {
    super(name, help, 'counter')
  }
  inc(labels: Labels = {}, by = 1) {
    this.series(labels).value += by
  }
  /** The series for `labels`, created at zero (so it shows before its first event). */
  series(labels: Labels = {}): CounterSeries {
    const k = key(labels)
    let s = this.values.get(k)
    if (!s) {
      s = { value: 0 }
      this.values.set(k, s)
    }
    return s
  }
  lines() {
    return [...this.values].map(([k, s]) => sample(this.name, k, s.value))
  }
}

/** A counter whose values are kept elsewhere (plain fields on a cache) and read at scrape time. */
export class CounterFrom extends Metric {
  constructor(
    name: string,
    help: string,
    private readonly read: () => Array<[Labels, number]>,
  ) {
    super(name, help, 'counter')
  }
  lines() {
    return this.read().map(([l, v]) => sample(this.name, key(l), v))
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
    return this.read().map(([l, v]) => sample(this.name, key(l), v))
  }
}

/** One bound histogram series: `observe()` adds to plain arrays. */
export class HistogramSeries {
  readonly counts: number[]
  sum = 0
  count = 0
  constructor(private readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0)
  }
  observe(value: number) {
    const b = this.buckets
    // Buckets are few and sorted: the first one that holds the value, then cumulated at render.
    let i = 0
    while (i < b.length && value > b[i]!) i++
    if (i < b.length) this.counts[i]!++
    this.sum += value
    this.count++
  }
}

export class Histogram extends Metric {
  private all = new Map<string, HistogramSeries>()
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram')
  }
  observe(labels: Labels, value: number) {
    this.series(labels).observe(value)
  }
  series(labels: Labels = {}): HistogramSeries {
    const k = key(labels)
    let s = this.all.get(k)
    if (!s) {
      s = new HistogramSeries(this.buckets)
      this.all.set(k, s)
    }
    return s
  }
  lines() {
    const out: string[] = []
    for (const [k, s] of this.all) {
      const sep = k ? `${k},` : ''
      let cumulative = 0
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!
        out.push(`${this.name}_bucket{${sep}le="${b}"} ${cumulative}`)
      })
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`)
      out.push(sample(`${this.name}_sum`, k, s.sum))
      out.push(sample(`${this.name}_count`, k, s.count))
    }
    return out
  }
}

/** Latency buckets in seconds, from a millisecond to two minutes. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120,
] as const

export class Registry {
  private metrics = new Map<string, Metric>()
  private refreshers: Array<() => Promise<void>> = []

  /**
   * Registers a metric. A name registered again (a component rebuilt on the same registry)
   * keeps the counter or histogram it already has, so counts survive; a gauge's reader is
   * replaced by the newer one.
   */
  private register<M extends Metric>(m: M): M {
    const had = this.metrics.get(m.name)
    if (had && had.type !== m.type)
      throw new Error(`metric ${m.name} registered as ${had.type} and ${m.type}`)
    if (had && (had instanceof Counter || had instanceof Histogram) && had.constructor === m.constructor)
      return had as unknown as M
    this.metrics.set(m.name, m)
    return m
  }
  /** The counter of that name, made on first use (later calls are a lookup, fine outside hot paths). */
  counter(name: string, help: string): Counter {
    const had = this.metrics.get(name)
    if (had instanceof Counter) return had
    return this.register(new Counter(name, help))
  }
  counterFrom(name: string, help: string, read: () => Array<[Labels, number]>) {
    return this.register(new CounterFrom(name, help, read))
  }
  histogram(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS): Histogram {
    const had = this.metrics.get(name)
    if (had instanceof Histogram) return had
    return this.register(new Histogram(name, help, buckets))
  }
  gauge(name: string, help: string, read: () => Array<[Labels, number]>) {
    return this.register(new Gauge(name, help, read))
  }
  /** Work done before each scrape (a bounded database count read into a gauge). */
  beforeScrape(fn: () => Promise<void>) {
    this.refreshers.push(fn)
  }
  has(name: string) {
    return this.metrics.has(name)
  }

  /**
   * Runs the refreshers (each failing on its own, none waited for longer than `timeoutMs`:
   * a scrape must answer while the database does not), then renders.
   */
  async scrape(timeoutMs = 2000): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs)
    })
    await Promise.race([Promise.all(this.refreshers.map((fn) => fn().catch(() => {}))), late])
    clearTimeout(timer)
    return this.render()
  }

  render(): string {
    const out: string[] = []
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`, ...m.lines())
    }
    return `${out.join('\n')}\n`
  }
}
