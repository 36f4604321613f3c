import { z } from 'zod'
import { NextCursor, NullableTimestamp, Timestamp, Uuid } from '../../http/schemas'
import { unstorable } from './result'

export const JobParams = z.object({ jobId: Uuid })

export const JobStatusName = z.enum(['running', 'completed', 'failed'])

/** The async lane's answer; its snake_case `poll_url` is kept from the seeds (see API.md). */
export const AsyncAccepted = z
  .object({
    jobId: z.uuid(),
    status: z.literal('running'),
    poll_url: z.string().describe('GET it with the caller’s or target’s token, or the workspace key'),
  })
  .meta({ id: 'AsyncJobAccepted' })

export const CallbackAttempt = z
  .object({
    attempt: z.number().int().describe('1 for the first attempt'),
    at: Timestamp,
    httpStatus: z.number().int().nullable().describe('null when no answer came (network error, timeout)'),
    error: z.string().nullable(),
    durationMs: z.number().int(),
  })
  .meta({ id: 'CallbackAttempt' })

export const CallbackDelivery = z
  .object({
    id: z.uuid(),
    webhookId: z.string().describe('The webhook-id header: the same on every attempt, for deduplication'),
    eventType: z.string(),
    url: z.string().nullable().describe("The callback URL; null for the target's side (it is the caller's)"),
    status: z.enum(['pending', 'delivered', 'failed', 'gone']).describe('gone: the receiver answered 410'),
    attempts: z.number().int(),
    nextAttemptAt: NullableTimestamp,
    lastAttemptAt: NullableTimestamp,
    lastHttpStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: Timestamp,
    finishedAt: NullableTimestamp,
    attemptLog: z.array(CallbackAttempt).optional().describe('Every attempt, oldest first (on a single job)'),
  })
  .meta({ id: 'CallbackDelivery' })

export const Job = z
  .object({
    id: z.uuid(),
    jobId: z.uuid().describe('The same as id, under the name the async envelope uses'),
    status: JobStatusName,
    connectionId: z.uuid().nullable(),
    workspaceId: z.uuid().describe("The caller's workspace, which owns the job"),
    targetWorkspaceId: z.uuid(),
    callerAgentId: z.uuid().nullable().describe('null for a job a webhook trigger made'),
    triggerId: z.string().nullable().describe('The webhook trigger whose call made the job'),
    targetAgentId: z.uuid(),
    handledByAgentId: z.uuid().describe('Who received the delivery: the target, or its fallback'),
    httpStatus: z.number().int().nullable().describe("The status of the agent's answer to the delivery"),
    result: z.unknown().describe('The upstream body (JSON if it parsed, else text) or the reported result'),
    error: z.string().nullable(),
    deadlineAt: Timestamp.describe('A job still running then fails'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    completedAt: NullableTimestamp.describe('When it became completed or failed'),
    traceId: z
      .string()
      .nullable()
      .describe(
        'The W3C trace id of the call that created the job (its traceparent, continued, or a new trace); the delivery, the callback and the status report carry it',
      ),
    callback: CallbackDelivery.nullable().describe('null when the call carried no callback URL'),
  })
  .meta({ id: 'Job' })

export const JobList = z.object({ jobs: z.array(Job), nextCursor: NextCursor }).meta({ id: 'JobList' })

export const ListJobsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
  status: JobStatusName.optional(),
  role: z
    .enum(['caller', 'target'])
    .optional()
    .describe(
      'Agent token: jobs it started (caller) or received (target, also as fallback). ' +
        'Workspace key: jobs its agents started, or jobs sent to its agents. Default: both.',
    ),
})

const storable = { message: 'must not contain NUL characters or unpaired surrogates' }

export const StatusReport = z
  .strictObject({
    status: z.enum(['completed', 'failed']),
    result: z
      .unknown()
      .optional()
      .refine((v) => !unstorable(v), storable)
      .describe('Any JSON value'),
    error: z
      .string()
      .max(10_000)
      .refine((v) => !unstorable(v), storable)
      .optional(),
  })
  .meta({
    id: 'JobStatusReport',
    examples: [{ status: 'completed', result: { summary: 'Three sources agree.' } }],
  })

export const ClearedJob = z.object({ id: z.uuid(), deleted: z.literal(true) }).meta({ id: 'ClearedJob' })
