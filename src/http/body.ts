import { Elysia } from 'elysia'
import { AppError } from '../lib/errors'
import { readCapped } from '../lib/read'
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/storable'

/**
 * Reads a request body as JSON with a byte limit enforced while reading, so a chunked
 * body with no Content-Length cannot make us buffer more than the limit. A body nested
 * deeper than any real document is refused before it is parsed (recursive code further on
 * would overflow the stack on it).
 */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  const text = await readText(request, limit)
  // An empty body is an empty object: optional bodies take their defaults, required fields say so.
  if (text.trim() === '') return {}
  if (nestsDeeperThan(text))
    throw new AppError('invalid_json', `The request body nests deeper than ${MAX_JSON_DEPTH} levels`)
  try {
    return JSON.parse(text)
  } catch {
    throw new AppError('invalid_json', 'The request body is not valid JSON')
  }
}

export async function readText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) <= limit) return request.text()
  return new TextDecoder().decode(await readBytes(request, limit))
}

export async function readBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit)
  // With a declared length within the limit the runtime reads it in one go (and stops at it).
  if (declared !== null) return new Uint8Array(await request.arrayBuffer())
  // Chunked: read no more than one chunk past the limit before refusing.
  const { bytes, truncated } = await readCapped(request.body, limit)
  if (truncated) throw tooLarge(limit)
  return bytes
}

const tooLarge = (limit: number) =>
  new AppError('payload_too_large', `The request body is larger than ${limit} bytes`, { limitBytes: limit })

/**
 * JSON bodies for a module's routes, whatever the Content-Type says, read with a byte
 * limit as they arrive. Scoped, not global: the proxy lanes read their bodies themselves.
 * Routes with a body also say `parse: 'json'`: this hook runs first and answers, and the
 * OpenAPI generator, which skips function parsers, then documents the body as JSON.
 */
export const jsonBody = (limit: number) =>
  new Elysia().onParse({ as: 'scoped' }, ({ request }) => readJson(request, limit))
