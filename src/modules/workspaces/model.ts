import { z } from 'zod'
import { NextCursor, NullableTimestamp, Timestamp } from '../../http/schemas'

export const WorkspaceName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(
    /^[\p{L}\p{N}][\p{L}\p{N} _.-]*$/u,
    'letters, digits, spaces, "_", "." and "-", starting with a letter or digit',
  )

export const Workspace = z
  .object({ id: z.uuid(), name: z.string(), createdAt: Timestamp })
  .meta({ id: 'Workspace' })

export const WorkspaceKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('The first characters of the key, for recognising it'),
    expiresAt: NullableTimestamp,
    lastUsedAt: NullableTimestamp.describe('Updated within a few seconds of use'),
    createdAt: Timestamp,
  })
  .meta({ id: 'WorkspaceKey' })

export const CreateWorkspaceBody = z
  .strictObject({ name: WorkspaceName })
  .meta({ id: 'CreateWorkspaceRequest', examples: [{ name: 'research' }] })
export const CreatedWorkspace = z
  .object({
    workspace: Workspace,
    apiKey: z.string().describe('The workspace key (wk_…). Shown once.'),
  })
  .meta({ id: 'CreatedWorkspace' })
export const WorkspaceList = z
  .object({ workspaces: z.array(Workspace), nextCursor: NextCursor })
  .meta({ id: 'WorkspaceList' })

export const CreateKeyBody = z
  .strictObject({
    // No control characters (NUL above all: Postgres refuses it in text).
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .refine(
        (v) => ![...v].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127),
        'no control characters',
      ),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(10 * 365 * 86400)
      .optional(),
  })
  .meta({ id: 'CreateWorkspaceKeyRequest', examples: [{ name: 'ci', expiresInSeconds: 2592000 }] })
export const CreatedKey = z
  .object({
    key: WorkspaceKey,
    apiKey: z.string().describe('The key (wk_…). Shown once.'),
  })
  .meta({ id: 'CreatedWorkspaceKey' })
export const IssuedKey = z
  .object({
    workspace: Workspace,
    key: WorkspaceKey,
    apiKey: z.string().describe('The key (wk_…). Shown once.'),
  })
  .meta({ id: 'IssuedWorkspaceKey' })
export const KeyList = z
  .object({ keys: z.array(WorkspaceKey), nextCursor: NextCursor })
  .meta({ id: 'WorkspaceKeyList' })
export const RevokedKey = WorkspaceKey.extend({ revokedAt: Timestamp }).meta({ id: 'RevokedWorkspaceKey' })
