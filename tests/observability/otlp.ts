import { gunzipSync } from 'node:zlib'
import { upstream } from '../helpers'

/** A span as a test reads it, from either OTLP/HTTP encoding. */
export type ReceivedSpan = {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  /** 1 internal, 2 server, 3 client (the OTLP enum). */
  kind: number
  attributes: Record<string, string | number | boolean>
  statusCode: number
  service: string | undefined
}

/**
 * A local OTLP/HTTP receiver: takes POST /v1/traces in http/protobuf or http/json (gzipped or
 * not), keeps every span and the headers each export came with, and answers as a collector does.
 */
export function otlpReceiver() {
  const spans: ReceivedSpan[] = []
  const exports: { contentType: string; headers: Record<string, string> }[] = []
  const server = upstream(async (req) => {
    if (req.method !== 'POST' || new URL(req.url).pathname !== '/v1/traces')
      return new Response('no', { status: 404 })
    let body = new Uint8Array(await req.arrayBuffer())
    if (req.headers.get('content-encoding') === 'gzip') body = new Uint8Array(gunzipSync(body))
    const contentType = req.headers.get('content-type') ?? ''
    exports.push({ contentType, headers: Object.fromEntries(req.headers) })
    spans.push(...(contentType.includes('json') ? fromJson(body) : fromProtobuf(body)))
    return contentType.includes('json')
      ? Response.json({})
      : new Response(new Uint8Array(), { headers: { 'content-type': 'application/x-protobuf' } })
  })
  return {
    url: server.url,
    spans,
    exports,
    byTrace: (traceId: string) => spans.filter((s) => s.traceId === traceId),
  }
}

type JsonValue = {
  stringValue?: string
  intValue?: string | number
  boolValue?: boolean
  doubleValue?: number
}
type JsonKv = { key: string; value: JsonValue }

function fromJson(body: Uint8Array): ReceivedSpan[] {
  const doc = JSON.parse(new TextDecoder().decode(body)) as {
    resourceSpans: {
      resource?: { attributes?: JsonKv[] }
      scopeSpans: { spans: any[] }[]
    }[]
  }
  const out: ReceivedSpan[] = []
  for (const rs of doc.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind,
          attributes: Object.fromEntries(
            (s.attributes ?? []).map((a: JsonKv) => [a.key, jsonValue(a.value)]),
          ),
          statusCode: s.status?.code ?? 0,
          service,
        })
  }
  return out
}

const jsonValue = (v: JsonValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ''))

// ---- a minimal protobuf reader: enough of the wire format for OTLP spans ----

type Field = { no: number; wire: number; bytes?: Uint8Array; int?: bigint }

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = []
  let i = 0
  const varint = () => {
    let v = 0n
    let shift = 0n
    for (;;) {
      const b = buf[i++]!
      v |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return v
      shift += 7n
    }
  }
  while (i < buf.length) {
    const tag = Number(varint())
    const no = tag >> 3
    const wire = tag & 7
    if (wire === 0) out.push({ no, wire, int: varint() })
    else if (wire === 1) {
      out.push({ no, wire, bytes: buf.subarray(i, i + 8) })
      i += 8
    } else if (wire === 2) {
      const len = Number(varint())
      out.push({ no, wire, bytes: buf.subarray(i, i + len) })
      i += len
    } else if (wire === 5) {
      out.push({ no, wire, bytes: buf.subarray(i, i + 4) })
      i += 4
    } else throw new Error(`unsupported wire type ${wire}`)
  }
  return out
}

const all = (fs: Field[], no: number) => fs.filter((f) => f.no === no)
const one = (fs: Field[], no: number) => fs.find((f) => f.no === no)
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '')
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : '')

function anyValue(b: Uint8Array): string | number | boolean {
  const f = fields(b)[0]
  if (!f) return ''
  if (f.no === 1) return text(f.bytes)
  if (f.no === 2) return f.int === 1n
  if (f.no === 3) return Number(f.int)
  if (f.no === 4) return new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 8).getFloat64(0, true)
  return ''
}

function attributes(fs: Field[], no: number) {
  const out: Record<string, string | number | boolean> = {}
  for (const kv of all(fs, no)) {
    const k = fields(kv.bytes!)
    out[text(one(k, 1)?.bytes)] = anyValue(one(k, 2)?.bytes ?? new Uint8Array())
  }
  return out
}

function fromProtobuf(body: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = []
  for (const rs of all(fields(body), 1)) {
    const r = fields(rs.bytes!)
    const resource = one(r, 1)
    const service = resource ? attributes(fields(resource.bytes!), 1)['service.name'] : undefined
    for (const ss of all(r, 2))
      for (const sp of all(fields(ss.bytes!), 2)) {
        const s = fields(sp.bytes!)
        const status = one(s, 15)
        out.push({
          traceId: hex(one(s, 1)?.bytes),
          spanId: hex(one(s, 2)?.bytes),
          parentSpanId: hex(one(s, 4)?.bytes),
          name: text(one(s, 5)?.bytes),
          kind: Number(one(s, 6)?.int ?? 0n),
          attributes: attributes(s, 9),
          statusCode: status ? Number(one(fields(status.bytes!), 3)?.int ?? 0n) : 0,
          service: typeof service === 'string' ? service : undefined,
        })
      }
  }
  return out
}
