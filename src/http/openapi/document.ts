import { getPossiblePath, toOpenAPISchema } from '@elysiajs/openapi/openapi'
import type { AnyElysia } from 'elysia'
import { errorExample } from '../schemas'
import { DOCUMENT_INFO, ERROR_HEADERS, SECURITY_SCHEMES, TAGS } from './info'
import { type Json, liftDefinitions, type SchemaSlot, type Side } from './lift'
import { finishOperation, type Operation, type RouteHooks } from './operations'

export const OPENAPI_VERSION = '3.1.1'

type Route = { method: string; path: string; hooks?: RouteHooks }
type Paths = Record<string, Record<string, Operation>>

/**
 * The OpenAPI document of every route `app` serves. The routes are walked by
 * @elysiajs/openapi, which converts each zod schema through its Standard JSON Schema
 * interface — request parts as input, answers as output, so a defaulted field is optional in
 * a request and present in an answer. Each converted schema carries its own `$defs`; they are
 * lifted into `components.schemas` here (see lift.ts), and each operation is finished from
 * its route (operations.ts). `servers` is a relative `/` unless SWITCHBOARD_PUBLIC_URL is set:
 * tools resolve it against where they fetched the document, and nothing is built from headers.
 */
export function buildDocument(app: AnyElysia, opts: { publicUrl: string | null }) {
  // Not `staticFile` exclusion: the relays' card routes (`…/.well-known/agent-card.json`) are API routes.
  const raw = toOpenAPISchema(app, { staticFile: false }, undefined, undefined, OPENAPI_VERSION)
  const paths = withoutWildcards(JSON.parse(JSON.stringify(raw.paths)) as Paths)
  // The routes the generator walks; `getGlobalRoutes` is public in practice but typed protected.
  const routes = (app as unknown as { getGlobalRoutes(): Route[] }).getGlobalRoutes()
  for (const route of routes) {
    if (route.hooks?.detail?.hide) continue
    for (const path of getPossiblePath(route.path)) {
      const op = paths[templateOf(path)]?.[route.method.toLowerCase()]
      if (op) finishOperation(op, route.hooks ?? {})
    }
  }
  const schemas: Record<string, Json> = {}
  liftDefinitions(slotsOf(paths), schemas)
  for (const item of Object.values(paths)) for (const op of Object.values(item)) tidyErrors(op)
  return {
    openapi: OPENAPI_VERSION,
    info: DOCUMENT_INFO,
    servers: [
      opts.publicUrl
        ? { url: opts.publicUrl, description: 'SWITCHBOARD_PUBLIC_URL' }
        : { url: '/', description: 'The server this document was fetched from' },
    ],
    tags: TAGS,
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: usedSchemes(paths),
      headers: ERROR_HEADERS,
    },
  }
}

/**
 * The security schemes some operation takes. A scheme that depends on a setting (the metrics
 * token) is only in the document while the setting makes a route use it.
 */
function usedSchemes(paths: Paths): Partial<typeof SECURITY_SCHEMES> {
  const used = new Set<string>()
  for (const item of Object.values(paths))
    for (const op of Object.values(item))
      for (const req of (op as { security?: Record<string, unknown>[] }).security ?? [])
        for (const name of Object.keys(req)) used.add(name)
  return Object.fromEntries(Object.entries(SECURITY_SCHEMES).filter(([name]) => used.has(name)))
}

/** An Elysia path as an OpenAPI path template: `:id` is `{id}`, a trailing `*` is `{path}`. */
const templateOf = (path: string) => path.replace(/:([^/]+)/g, '{$1}').replace(/\/\*$/, `/{${WILDCARD}}`)

/** What Elysia's trailing wildcard is called in the document (OpenAPI has no wildcards). */
const WILDCARD = 'path'

/** The generator keeps Elysia's `*` as it is; the document names it, path and parameter alike. */
function withoutWildcards(paths: Paths): Paths {
  const out: Paths = {}
  for (const [path, item] of Object.entries(paths)) {
    for (const op of Object.values(item))
      for (const p of op.parameters ?? [])
        if (p.in === 'path' && p.name === '*') {
          p.name = WILDCARD
          const schema = p.schema as { description?: string } | undefined
          if (schema) schema.description = `${schema.description ?? 'The rest of the path'} (may contain /)`
        }
    out[path.replace(/\/\*$/, `/{${WILDCARD}}`)] = item
  }
  return out
}

/** Every schema an operation holds, with the side it describes. */
function slotsOf(paths: Paths): SchemaSlot[] {
  const slots: SchemaSlot[] = []
  const slot = (side: Side, holder: { schema?: unknown }) =>
    slots.push({ side, get: () => holder.schema as Json, set: (s) => (holder.schema = s) })
  for (const item of Object.values(paths))
    for (const op of Object.values(item)) {
      for (const p of op.parameters ?? []) slot('input', p)
      for (const media of Object.values(op.requestBody?.content ?? {})) slot('input', media)
      for (const res of Object.values(op.responses ?? {})) {
        for (const media of Object.values(res.content ?? {})) slot('output', media)
        for (const header of Object.values(res.headers ?? {})) if ('schema' in header) slot('output', header)
      }
    }
  return slots
}

/**
 * Error answers point at the one Error schema, bare: the status's sentence is the answer's
 * description, and an example shows the code that status usually carries.
 */
function tidyErrors(op: Operation) {
  for (const [status, res] of Object.entries(op.responses ?? {})) {
    if (Number(status) < 400) continue
    const media = res.content?.['application/json']
    const schema = media?.schema as { $ref?: string; description?: string } | undefined
    if (schema?.$ref !== '#/components/schemas/Error') continue
    media!.schema = { $ref: schema.$ref }
    res.headers = { 'x-switchboard-error': { $ref: '#/components/headers/SwitchboardError' } }
    media!.example ??= errorExample(Number(status))
    if (media!.example === undefined) delete media!.example
  }
}
