/**
 * Reads a stream up to `cap` bytes. Past the cap the rest is cancelled (never buffered) and
 * the answer says it was cut. Throws if the stream fails or is aborted before its end.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  cap: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!body) return { bytes: new Uint8Array(), truncated: false }
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (total + value.byteLength > cap) {
      chunks.push(value.subarray(0, cap - total))
      total = cap
      truncated = true
      await reader.cancel().catch(() => {})
      break
    }
    chunks.push(value)
    total += value.byteLength
  }
  return { bytes: Buffer.concat(chunks), truncated }
}
