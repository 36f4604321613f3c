/** Shorter than this, a secret is not looked for in answers: it would match ordinary text. */
export const MIN_REDACTED_LENGTH = 8
export const REDACTED = '[redacted]'

/**
 * The forms a credential can come back in when an app echoes a request (an error page quoting
 * the URL, a debug endpoint listing headers): the value itself and its URL encodings.
 */
export function secretForms(values: readonly string[]): string[] {
  const out = new Set<string>()
  for (const v of values) {
    if (v.length < MIN_REDACTED_LENGTH) continue
    out.add(v)
    out.add(encodeURIComponent(v))
    out.add(new URLSearchParams({ v }).toString().slice(2))
  }
  // Longest first, so a value is never half-replaced by a shorter form inside it.
  return [...out].sort((a, b) => b.length - a.length)
}

const scrub = (text: string, forms: readonly string[]) => {
  let out = text
  for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED)
  return out
}

/**
 * Replaces every occurrence of a secret in an answer's headers and body (text, or the strings
 * and keys of parsed JSON, walked without recursion). Base64 bodies are bytes and are left as
 * they are. Changes the answer in place.
 */
export function redactAnswer(
  answer: { headers: Record<string, string>; body: unknown; bodyEncoding: string },
  forms: readonly string[],
): void {
  if (forms.length === 0) return
  for (const k in answer.headers) answer.headers[k] = scrub(answer.headers[k]!, forms)
  if (answer.bodyEncoding === 'text') answer.body = scrub(answer.body as string, forms)
  else if (answer.bodyEncoding === 'json') {
    if (typeof answer.body === 'string') answer.body = scrub(answer.body, forms)
    const todo: unknown[] = [answer.body]
    while (todo.length > 0) {
      const node = todo.pop()
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) {
          if (typeof node[i] === 'string') node[i] = scrub(node[i], forms)
          else if (node[i] && typeof node[i] === 'object') todo.push(node[i])
        }
      } else if (node && typeof node === 'object') {
        const o = node as Record<string, unknown>
        for (const key of Object.keys(o)) {
          const v = o[key]
          const cleanKey = scrub(key, forms)
          const cleanValue = typeof v === 'string' ? scrub(v, forms) : v
          if (cleanKey !== key || cleanValue !== v) {
            if (cleanKey !== key) delete o[key]
            // defineProperty, not assignment: a key such as __proto__ stays a plain own property.
            Object.defineProperty(o, cleanKey, {
              value: cleanValue,
              enumerable: true,
              writable: true,
              configurable: true,
            })
          }
          if (v && typeof v === 'object') todo.push(v)
        }
      }
    }
  }
}
