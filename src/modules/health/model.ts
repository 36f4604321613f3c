import { z } from 'zod'
import { cursorQuery, limitQuery, NextCursor, NullableTimestamp, Timestamp } from '../../http/schemas'

export const HealthQuery = z.object({ limit: limitQuery, cursor: cursorQuery })

export const HealthCheck = z
  .object({
    at: Timestamp,
    ok: z.boolean().describe('Any HTTP answer below 500 within the timeout'),
    httpStatus: z.number().int().nullable(),
    latencyMs: z.number().int().nullable().describe('Time to the response headers'),
    error: z.string().nullable(),
  })
  .meta({ id: 'HealthCheck' })

export const AgentHealth = z
  .object({
    agentId: z.uuid(),
    permanentId: z.string(),
    endpointUrl: z.string().nullable(),
    presence: z.enum(['online', 'idle', 'offline']),
    lastHealthOkAt: NullableTimestamp,
    uptime: z.object({
      windowHours: z.literal(24),
      checks: z.number().int(),
      passed: z.number().int(),
      ratio: z.number().min(0).max(1).nullable().describe('passed / checks; null without checks'),
    }),
    checks: z.array(HealthCheck).describe('Newest first'),
    nextCursor: NextCursor,
  })
  .meta({ id: 'AgentHealth' })
