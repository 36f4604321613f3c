import { AppError } from '../../lib/errors'

/** Up to this size a body with a declared length is read whole: sending bytes is much cheaper than piping a stream. */
const SMALL_BODY = 64 * 1024

/**
 * A request body ready to go up: small bodies of known length are read whole; large or
 * chunked ones stream up as they arrive (cap them with the engine's `maxBodyBytes`). A
 * declared length over `maxBytes` is a 413 before anything is read or sent.
 */
export async function outgoingBody(request: Request, maxBytes?: number): Promise<Bun.BodyInit | null> {
  const length = request.headers.get('content-length')
  if (length !== null) {
    const n = Number(length)
    if (maxBytes !== undefined && n > maxBytes) {
      throw new AppError('payload_too_large', `The request body is larger than ${maxBytes} bytes`, {
        limitBytes: maxBytes,
      })
    }
    if (n <= SMALL_BODY) return n === 0 ? null : await request.arrayBuffer()
  }
  return request.body
}
