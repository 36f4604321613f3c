type Media = { schema?: unknown; example?: unknown }
type Response = {
  description: string
  content?: Record<string, Media>
  headers?: Record<string, Media | { $ref: string }>
}
export type Operation = {
  operationId?: string
  security?: Record<string, string[]>[]
  parameters?: { name: string; in: string; schema?: unknown }[]
  requestBody?: { required?: boolean; description?: string; content?: Record<string, Media> }
  responses?: Record<string, Response>
  [key: string]: unknown
}
export type RouteHooks = {
  body?: unknown
  response?: unknown
  detail?: { hide?: boolean; responses?: Record<string, Response>; [key: string]: unknown }
}

const REASONS: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' }

/**
 * Finishes one generated operation from its route:
 * - the request body is required only when the server refuses an empty one (an empty JSON
 *   body reads as `{}`, see http/body.ts), which the body schema itself decides;
 * - responses a route describes by hand in `detail.responses` (a non-JSON answer, say) win
 *   over the generated ones of the same status, which the generator would otherwise drop;
 * - an operation that declares no security is open: `security: []`, never "unspecified";
 * - a success answer without a description says its status.
 */
export function finishOperation(op: Operation, hooks: RouteHooks) {
  if (op.requestBody && isStandard(hooks.body)) op.requestBody.required = !acceptsEmpty(hooks.body)
  if (op.requestBody && !op.requestBody.description) delete op.requestBody.description
  const byHand = hooks.detail?.responses
  if (byHand && hooks.response) op.responses = { ...op.responses, ...byHand }
  op.security ??= []
  for (const [status, res] of Object.entries(op.responses ?? {}))
    if (/^Response for status/.test(res.description ?? '') || !res.description)
      res.description = REASONS[status] ?? `Status ${status}`
}

/** What a Standard Schema (zod, valibot, …) offers for validation. */
type StandardSchema = {
  '~standard': { validate(value: unknown): { issues?: unknown } | Promise<{ issues?: unknown }> }
}

const isStandard = (s: unknown): s is StandardSchema => !!s && typeof s === 'object' && '~standard' in s

function acceptsEmpty(schema: StandardSchema) {
  const result = schema['~standard'].validate({})
  // An asynchronous check cannot be settled here; say required, which is never wrong to send.
  return !(result instanceof Promise) && !result.issues
}
