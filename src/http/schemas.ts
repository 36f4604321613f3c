import { z } from 'zod'
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '../lib/errors'

/** Schemas shared by every module's routes. */
export const ErrorSchema = z
  .object({
    error: z.string().describe('A human-readable sentence'),
    code: z
      .enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]])
      .describe('A stable snake_case code'),
    details: z.unknown().optional().describe('Machine-readable specifics, e.g. the invalid fields'),
  })
  .meta({
    id: 'Error',
    description: 'Every error answer',
    examples: [{ error: 'Agent not found', code: 'not_found' }],
  })

const ERRORS = {
  400: [
    'Invalid request',
    {
      error: 'Invalid request body',
      code: 'invalid_request',
      details: [{ path: 'name', message: 'Too small: expected string to have >=1 characters' }],
    },
  ],
  401: [
    'Missing, malformed, expired or revoked credential',
    { error: 'The credential is malformed, unknown, expired or revoked', code: 'unauthorized' },
  ],
  403: ['Authenticated but not allowed', { error: 'This route takes a workspace key', code: 'forbidden' }],
  404: ['Not found (also for objects of another workspace)', { error: 'Agent not found', code: 'not_found' }],
  409: ['Conflict', { error: 'These two agents are already connected', code: 'conflict' }],
  413: [
    'Body over the limit',
    {
      error: 'The request body is larger than 1048576 bytes',
      code: 'payload_too_large',
      details: { limitBytes: 1048576 },
    },
  ],
  429: ['Rate limited', { error: 'Too many proxy calls for this token; retry later', code: 'rate_limited' }],
  502: ['Upstream failure', { error: 'The agent could not be reached', code: 'bad_gateway' }],
  503: ['Unavailable', { error: 'The database is not reachable', code: 'unavailable' }],
  504: ['Upstream timeout', { error: 'The agent did not answer in time', code: 'gateway_timeout' }],
} as const satisfies Record<number, readonly [string, ErrorBody]>
export type ErrorStatus = keyof typeof ERRORS

/** What an error answer of this status means, and an example of one (for the OpenAPI document). */
export const errorDescription = (status: ErrorStatus) => ERRORS[status][0]
export const errorExample = (status: number): ErrorBody | undefined => ERRORS[status as ErrorStatus]?.[1]

/** The response map for a route: its success schemas plus the error envelope for each error status. */
export function responses<S extends Record<number, z.ZodType>>(
  success: S,
  errors: ErrorStatus[] = [400, 401, 403, 404],
) {
  const out: Record<number, z.ZodType> = { ...success }
  for (const s of errors) out[s] = ErrorSchema.describe(errorDescription(s))
  return out as S & Record<ErrorStatus, typeof ErrorSchema>
}

export const Timestamp = z.iso.datetime().describe('ISO 8601 UTC')
export const NullableTimestamp = Timestamp.nullable()

export const limitQuery = z.coerce.number().int().min(1).max(500).default(50)
export const cursorQuery = z.string().max(512).optional()
export const PageQuery = z.object({ limit: limitQuery, cursor: cursorQuery })

export const Uuid = z.uuid({ error: 'must be a UUID' })
export const IdParams = z.object({ id: Uuid })
export const AgentRef = z
  .string()
  .regex(
    /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|agt-[a-z0-9]{8})$/,
    'must be an agent UUID or permanent id (agt-xxxxxxxx)',
  )
export const AgentParams = z.object({ agentId: AgentRef })

export const NextCursor = z
  .string()
  .nullable()
  .describe('Pass as ?cursor= for the next page; null on the last page')

type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
/**
 * Any JSON value, as one named schema. Use it rather than `z.json()`, whose recursion has no
 * name. It is spelled one level deep: a body parsed from JSON holds nothing but JSON below
 * that, and a recursive schema tells a client nothing more while tripping type generators
 * (openapi-fetch's request types collapse on it).
 */
export const JsonValue = z
  .union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(z.unknown()),
    z.record(z.string(), z.unknown()),
  ])
  .meta({ id: 'JsonValue', description: 'Any JSON value' }) as unknown as z.ZodType<Json>
