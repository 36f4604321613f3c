/**
 * Moves the JSON Schema definitions that zod writes into every converted schema (`$defs`,
 * referenced as `#/$defs/Name` — which, inside an OpenAPI document, points at the document's
 * root and resolves nowhere) into `components.schemas`, once each, and points every use there.
 *
 * zod names a definition after the schema's `.meta({ id })`. The same named schema can read
 * differently as a request (input: defaults optional) and as an answer (output: defaults
 * present); when the two differ, the request side is published as `<Name>Input`. A name
 * used for two different schemas on the same side keeps the first and publishes the other as
 * `<Name>_2`, and an unnamed recursive schema gets `Unnamed_<n>`: neither passes the document
 * test, which asks for PascalCase names only, so such a clash cannot go unnoticed.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Obj = { [key: string]: Json }
export type Side = 'input' | 'output'

/** A place in the document that holds a schema, and which side of the exchange it describes. */
export type SchemaSlot = { side: Side; get: () => Json; set: (schema: Json) => void }

const LOCAL_REF = '#/$defs/'
const COMPONENT_REF = '#/components/schemas/'
const ANONYMOUS = /^__schema\d+$/

const isObj = (v: Json | undefined): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v)

/** Rebuilds a JSON value with every `$ref` passed through `map` (and nullable enums mended). */
function mapRefs(value: Json, map: (ref: string) => string): Json {
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, map))
  if (!isObj(value)) return value
  const out: Obj = {}
  for (const [k, v] of Object.entries(value))
    out[k] = k === '$ref' && typeof v === 'string' ? map(v) : mapRefs(v, map)
  return withNullInEnum(out)
}

/**
 * A nullable enum (`z.enum([...]).nullable()`) can reach the document folded into
 * `{type: ['string', 'null'], enum: [...]}`: the enum leaves null out, so by JSON Schema null
 * is refused after all (redocly flags every example holding it). The enum gets its null back.
 */
function withNullInEnum(schema: Obj): Obj {
  const { type, enum: values } = schema
  if (Array.isArray(type) && type.includes('null') && Array.isArray(values) && !values.includes(null))
    return { ...schema, enum: [...values, null] }
  return schema
}

function localRefs(value: Json, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) localRefs(v, into)
  else if (isObj(value))
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(LOCAL_REF))
        into.add(v.slice(LOCAL_REF.length))
      else localRefs(v, into)
    }
  return into
}

/** One converted schema: its body without `$schema`/`$defs`, and its own definitions. */
type Unit = { slot: SchemaSlot; root: Json; defs: Map<string, Json>; rename: Map<string, string> }

/**
 * Lifts the definitions of every slot into `components` (mutated) and rewrites each slot.
 * `components` may already hold schemas (declared by hand); a lifted schema never replaces one.
 */
export function liftDefinitions(slots: SchemaSlot[], components: Record<string, Json>) {
  const units: Unit[] = []
  // name → side → the distinct bodies seen under that name (keyed by their JSON text)
  const bodies = new Map<string, Record<Side, Map<string, Json>>>()
  let unnamed = 0
  for (const slot of slots) {
    const schema = slot.get()
    if (!isObj(schema)) continue
    const { $schema: _dialect, $defs, ...root } = schema
    const unit: Unit = { slot, root, defs: new Map(), rename: new Map() }
    for (const [name, body] of Object.entries(isObj($defs) ? $defs : {})) {
      // zod numbers unnamed recursive schemas per conversion: the same number means nothing across units.
      const key = ANONYMOUS.test(name) ? `Unnamed_${++unnamed}` : name
      unit.defs.set(name, body)
      unit.rename.set(name, key)
      const entry = bodies.get(key) ?? { input: new Map(), output: new Map() }
      bodies.set(key, entry)
      entry[slot.side].set(JSON.stringify(body), body)
    }
    units.push(unit)
  }

  // A name differs between the sides when its bodies do, or when it refers to a name that does.
  const differs = new Set<string>()
  for (const [name, by] of bodies) {
    const [input] = by.input.keys()
    const [output] = by.output.keys()
    if (input !== undefined && output !== undefined && input !== output) differs.add(name)
  }
  for (let changed = true; changed; ) {
    changed = false
    for (const unit of units)
      for (const [name, body] of unit.defs) {
        const key = unit.rename.get(name)!
        if (differs.has(key)) continue
        for (const ref of localRefs(body))
          if (differs.has(unit.rename.get(ref) ?? ref)) {
            differs.add(key)
            changed = true
            break
          }
      }
  }

  // The published name of a definition as one unit sees it.
  const published = (unit: Unit, name: string) => {
    const key = unit.rename.get(name) ?? name
    const by = bodies.get(key)
    const base = unit.slot.side === 'input' && differs.has(key) && by?.output.size ? `${key}Input` : key
    const variants = [...(by?.[unit.slot.side].keys() ?? [])]
    const body = unit.defs.get(name)
    const index = body === undefined ? 0 : variants.indexOf(JSON.stringify(body))
    return index > 0 ? `${base}_${index + 1}` : base
  }

  for (const unit of units) {
    const toComponent = (ref: string) =>
      ref.startsWith(LOCAL_REF) ? COMPONENT_REF + published(unit, ref.slice(LOCAL_REF.length)) : ref
    for (const [name, body] of unit.defs) {
      const target = published(unit, name)
      if (!(target in components)) components[target] = mapRefs(body, toComponent)
    }
    unit.slot.set(mapRefs(unit.root, toComponent))
  }
}
