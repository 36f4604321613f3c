import { describe, expect, test } from 'bun:test'
import { ApiError, fieldErrors } from '../../web/api/errors'
import { bodyOf, emptyFields, errorsFor, localErrors } from '../../web/pages/agent-body'

/** The register and settings forms' pure parts: what they send, and where the server's errors land. */
describe('agent form', () => {
  test('a blank field is left out at registration and cleared (null) on update', () => {
    const f = { ...emptyFields(), name: ' planner ', languagesSupported: 'en, de,,', tokenTtlSeconds: '3600' }
    const reg = bodyOf(f, 'omit')
    expect(reg).toMatchObject({ name: 'planner', languagesSupported: ['en', 'de'], tokenTtlSeconds: 3600 })
    expect(reg.endpointUrl).toBeUndefined()
    expect(reg.protocols).toEqual({})
    const upd = bodyOf({ ...f, tokenTtlSeconds: '' }, 'null')
    expect(upd.endpointUrl).toBeNull()
    expect(upd.fallbackAgentId).toBeNull()
    expect(upd.tokenTtlSeconds).toBeNull()
    expect(Object.keys(upd.protocols)).toEqual(['mcp', 'a2a', 'openai', 'anp', 'acp'])
  })

  test('capabilities: metadata must be a JSON object before anything is sent', () => {
    const f = {
      ...emptyFields(),
      capabilities: [
        { name: 'gpu', metadata: '{"model":"A100"}' },
        { name: 'bad', metadata: '[1]' },
        { name: 'worse', metadata: '{' },
      ],
    }
    expect(localErrors(f)).toEqual({
      'capabilities.1.metadata': expect.stringContaining('JSON object'),
      'capabilities.2.metadata': expect.stringContaining('JSON object'),
    })
    expect(bodyOf({ ...f, capabilities: [f.capabilities[0]!] }, 'omit').capabilities).toEqual([
      { name: 'gpu', metadata: { model: 'A100' } },
    ])
  })

  test('server errors land on their field: validation paths, a refused URL, a rule named in the sentence', () => {
    const validation = new ApiError(400, 'invalid_request', 'Invalid request body', [
      { path: 'protocols.mcp.url', message: 'must be an absolute http(s) URL' },
      { path: 'languagesSupported.1', message: 'too long' },
    ])
    expect(errorsFor(validation)).toMatchObject({
      'protocols.mcp.url': 'must be an absolute http(s) URL',
      languagesSupported: 'too long',
    })
    const refused = new ApiError(400, 'invalid_url', 'endpointUrl is refused (private): …', {
      field: 'endpointUrl',
      rule: 'private',
    })
    expect(fieldErrors(refused)).toEqual({ endpointUrl: 'endpointUrl is refused (private): …' })
    const rule = new ApiError(
      400,
      'invalid_request',
      'fallbackAgentId does not name an agent of this workspace',
    )
    expect(errorsFor(rule)).toEqual({
      fallbackAgentId: 'fallbackAgentId does not name an agent of this workspace',
    })
    expect(errorsFor(new Error('offline'))).toEqual({})
  })
})
