import { describe, expect, test } from 'bun:test'
import { z } from 'zod'
import { type Json, liftDefinitions, type SchemaSlot, type Side } from '../../src/http/openapi/lift'

/** Slots over plain holders, as the document builder makes them over media objects. */
function slots(...schemas: [Side, Json][]) {
  const holders = schemas.map(([side, schema]) => ({ side, schema }))
  const list: SchemaSlot[] = holders.map((h) => ({
    side: h.side,
    get: () => h.schema,
    set: (s) => (h.schema = s),
  }))
  return { list, result: () => holders.map((h) => h.schema) }
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

describe('lifting $defs into components', () => {
  test('a nullable enum keeps null among its values (the generator folds null into `type` only)', () => {
    const reason = { type: 'object', properties: { why: { type: ['string', 'null'], enum: ['a', 'b'] } } }
    const s = slots(['output', { $ref: '#/$defs/Reason', $defs: { Reason: reason } }])
    const components: Record<string, Json> = {}
    liftDefinitions(s.list, components)
    expect((components.Reason as any).properties.why).toEqual({
      type: ['string', 'null'],
      enum: ['a', 'b', null],
    })
  })

  test('one definition used by two schemas lands once; both point at it; $defs and $schema go', () => {
    const agent = { type: 'object', properties: { id: { type: 'string' } } }
    const s = slots(
      ['output', { $schema: 'x', $ref: '#/$defs/Agent', $defs: { Agent: agent } }],
      ['output', { type: 'array', items: { $ref: '#/$defs/Agent' }, $defs: { Agent: agent } }],
    )
    const components: Record<string, Json> = {}
    liftDefinitions(s.list, components)
    expect(components).toEqual({ Agent: agent })
    expect(s.result()).toEqual([ref('Agent'), { type: 'array', items: ref('Agent') }])
  })

  test('a schema that reads differently as a request is published as <Name>Input, and so are its users', () => {
    const Thing = z.object({ n: z.number().default(1) }).meta({ id: 'LiftThing' })
    const Holder = z.object({ thing: Thing }).meta({ id: 'LiftHolder' })
    const as = (io: 'input' | 'output') =>
      Holder['~standard'].jsonSchema[io]({ target: 'draft-2020-12' }) as Json
    const s = slots(['input', as('input')], ['output', as('output')])
    const components: Record<string, Json> = {}
    liftDefinitions(s.list, components)
    expect(Object.keys(components).sort()).toEqual([
      'LiftHolder',
      'LiftHolderInput',
      'LiftThing',
      'LiftThingInput',
    ])
    expect((components.LiftThing as any).required).toEqual(['n'])
    expect((components.LiftThingInput as any).required).toBeUndefined()
    // The request-side holder points at the request-side thing.
    expect((components.LiftHolderInput as any).properties.thing).toEqual(ref('LiftThingInput'))
    expect((components.LiftHolder as any).properties.thing).toEqual(ref('LiftThing'))
    expect(s.result()).toEqual([ref('LiftHolderInput'), ref('LiftHolder')])
  })

  test('a schema the same on both sides keeps one name', () => {
    // Strict: a plain object reads as open (extra keys dropped) in a request and closed in an answer.
    const Same = z.strictObject({ a: z.string() }).meta({ id: 'LiftSame' })
    const s = slots(
      ['input', Same['~standard'].jsonSchema.input({ target: 'draft-2020-12' }) as Json],
      ['output', Same['~standard'].jsonSchema.output({ target: 'draft-2020-12' }) as Json],
    )
    const components: Record<string, Json> = {}
    liftDefinitions(s.list, components)
    expect(Object.keys(components)).toEqual(['LiftSame'])
  })

  test('two different schemas under one name keep the first; the second is visibly <Name>_2', () => {
    const s = slots(
      ['output', { $ref: '#/$defs/Clash', $defs: { Clash: { type: 'string' } } }],
      ['output', { $ref: '#/$defs/Clash', $defs: { Clash: { type: 'number' } } }],
    )
    const components: Record<string, Json> = {}
    liftDefinitions(s.list, components)
    expect(components).toEqual({ Clash: { type: 'string' }, Clash_2: { type: 'number' } })
    expect(s.result()).toEqual([ref('Clash'), ref('Clash_2')])
  })

  test("unnamed recursive schemas get a visible Unnamed_n each: zod's numbering is per conversion", () => {
    const s = slots(
      ['output', { items: { $ref: '#/$defs/__schema0' }, $defs: { __schema0: { type: 'string' } } }],
      ['output', { items: { $ref: '#/$defs/__schema0' }, $defs: { __schema0: { type: 'number' } } }],
    )
    const components: Record<string, Json> = {}
    liftDefinitions(s.list, components)
    expect(components).toEqual({ Unnamed_1: { type: 'string' }, Unnamed_2: { type: 'number' } })
    expect(s.result()).toEqual([{ items: ref('Unnamed_1') }, { items: ref('Unnamed_2') }])
  })

  test('schemas declared by hand are never replaced, and refs elsewhere are left alone', () => {
    const s = slots([
      'output',
      { $ref: '#/$defs/Kept', $defs: { Kept: { type: 'number' } }, not: { $ref: 'x.json' } },
    ])
    const components: Record<string, Json> = { Kept: { type: 'string' } }
    liftDefinitions(s.list, components)
    expect(components).toEqual({ Kept: { type: 'string' } })
    expect(s.result()).toEqual([{ ...ref('Kept'), not: { $ref: 'x.json' } }])
  })
})
