import { z } from 'zod'

/** Schemas shared by every module's routes. */
export const ErrorSchema = z
  .object({
    error: z.string().describe('A human-readable sentence'),
    code: z.string().describe('A stable snake_case code'),
    details: z.unknown().optional(),
  })
  .meta({ id: 'Error' })

const ERROR_DESCRIPTIONS = {
  400: 'Invalid request',
  401: 'Missing, malformed, expired or revoked credential',
  403: 'Authenticated but not allowed',
  404: 'Not found (also for objects of another workspace)',
  409: 'Conflict',
  413: 'Body over the limit',
  429: 'Rate limited',
  502: 'Upstream failure',
  503: 'Unavailable',
  504: 'Upstream timeout',
} as const
type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS

/** The response map for a route: its success schemas plus the error envelope for each error status. */
export function responses<S extends Record<number, z.ZodType>>(
  success: S,
  errors: ErrorStatus[] = [400, 401, 403, 404],
) {
  const out: Record<number, z.ZodType> = { ...success }
  for (const s of errors) out[s] = ErrorSchema.describe(ERROR_DESCRIPTIONS[s])
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
