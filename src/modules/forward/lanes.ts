/**
 * Who calls out through the engine: a bounded label on the upstream metrics and spans. A new
 * user of the engine adds its name here.
 */
export const LANES = [
  'sync',
  'async',
  'broadcast',
  'pool',
  'relay',
  'app',
  'callback',
  'webhook',
  'health',
] as const
export type Lane = (typeof LANES)[number]
