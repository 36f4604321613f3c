/** The API's refusals as the console shows them; no dependency on the generated types. */

/** What the server said when it refused: its sentence, code and details, and the status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }
}

/**
 * Field-level messages from an API error, keyed by the field's path (`name`,
 * `protocols.mcp.url`, `capabilities.0.name`): request validation lists them in `details`,
 * a refused URL names its `field`.
 */
export function fieldErrors(e: unknown): Record<string, string> {
  if (!(e instanceof ApiError)) return {}
  const out: Record<string, string> = {}
  if (Array.isArray(e.details)) {
    for (const d of e.details as { path?: string; message?: string }[]) {
      if (d.path && !out[d.path]) out[d.path] = d.message ?? 'invalid'
    }
  } else if (e.details && typeof e.details === 'object' && 'field' in e.details) {
    out[String((e.details as { field: unknown }).field)] = e.message
  }
  return out
}

/** A human sentence for any failure. */
export const messageOf = (e: unknown) => (e instanceof Error ? e.message : 'Something went wrong')
