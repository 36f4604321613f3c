import { z } from 'zod'
import { Timestamp } from '../../http/schemas'

export const SignInBody = z
  .object({ key: z.string().min(1).max(512).describe('A workspace key (wk_…)') })
  .meta({ id: 'SignInBody' })

export const ConsoleSession = z
  .object({
    workspace: z.object({ id: z.uuid(), name: z.string() }),
    keyPrefix: z.string().describe('The display prefix of the key the session acts as'),
    expiresAt: Timestamp.describe('The absolute end of the session'),
    idleSeconds: z.number().int().describe('The session ends after this long without a request'),
  })
  .meta({ id: 'ConsoleSession' })

export const SignedOut = z.object({ signedOut: z.literal(true) }).meta({ id: 'SignedOut' })
