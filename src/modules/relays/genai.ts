import type { GenAiCall } from '../../lib/trace/tracer'

/** The OpenAI API's operations, as the GenAI conventions name them. */
const OPERATIONS: Array<[suffix: string, operation: string]> = [
  ['/chat/completions', 'chat'],
  ['/responses', 'chat'],
  ['/completions', 'text_completion'],
  ['/embeddings', 'embeddings'],
]

const MODEL = /^[\x21-\x7e]{1,256}$/

/**
 * The model an OpenAI-compatible request names, when the relay already holds its body (a
 * small body of known length is read whole before it goes up; a streamed one is never read
 * for this). Only asked while spans are exported: nothing is parsed otherwise.
 */
export function openAiCall(rest: string, body: Bun.BodyInit | null): GenAiCall | undefined {
  const path = rest.replace(/\/+$/, '')
  const operation = OPERATIONS.find(([suffix]) => path.endsWith(suffix))?.[1]
  if (!operation || !(body instanceof ArrayBuffer)) return undefined
  try {
    const model = (JSON.parse(new TextDecoder().decode(body)) as { model?: unknown }).model
    return typeof model === 'string' && MODEL.test(model)
      ? { operation, model, provider: 'openai' }
      : undefined
  } catch {
    return undefined
  }
}
