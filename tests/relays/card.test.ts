import { describe, expect, test } from 'bun:test'
import { type CardContext, composedCard, relayedCard, relayUrl } from '../../src/modules/relays/card'

/** The A2A card rules, pure: where URLs point, what is dropped, what a composed card holds. */
const ctx: CardContext = {
  a2aUrl: 'http://10.1.2.3:5555/a2a/jsonrpc',
  base: 'https://sb.example/relay/agt-abcd1234/a2a',
  upstreamHosts: ['10.1.2.3:5555', 'agent.internal'],
}

describe('A2A card rules', () => {
  test('a URL under the registered one keeps its path under the relay; any other points at the base', () => {
    expect(relayUrl('http://10.1.2.3:5555/a2a/jsonrpc', ctx)).toEqual({ url: ctx.base, under: true })
    expect(relayUrl('http://10.1.2.3:5555/a2a/jsonrpc/rest', ctx).url).toBe(`${ctx.base}/rest`)
    expect(relayUrl('/a2a/jsonrpc/v1?x=1', ctx).url).toBe(`${ctx.base}/v1?x=1`)
    // Claimed elsewhere: the relay still routes by the registered URL.
    expect(relayUrl('http://other.example/jsonrpc', ctx)).toEqual({ url: ctx.base, under: false })
    expect(relayUrl('http://10.1.2.3:5555/a2a/jsonrpcX', ctx).under).toBe(false)
    // A query that names the upstream is not handed out.
    expect(relayUrl('http://10.1.2.3:5555/a2a/jsonrpc/cb?u=http://10.1.2.3:5555/', ctx).url).toBe(ctx.base)
  })

  test('a fetched card: interfaces point at the relay, gRPC and signatures go, no upstream address remains', () => {
    const upstream = {
      name: 'Agent',
      description: 'Runs at http://10.1.2.3:5555/a2a/jsonrpc',
      version: '1.0.0',
      url: 'http://10.1.2.3:5555/a2a/jsonrpc',
      preferredTransport: 'JSONRPC',
      additionalInterfaces: [
        { url: 'http://10.1.2.3:5555/a2a/jsonrpc', transport: 'JSONRPC' },
        { url: '10.1.2.3:5556', transport: 'GRPC' },
      ],
      supportedInterfaces: [
        {
          url: 'http://10.1.2.3:5555/a2a/jsonrpc',
          protocolBinding: 'JSONRPC',
          protocolVersion: '1.0',
          tenant: '',
        },
        {
          url: 'http://10.1.2.3:5555/a2a/jsonrpc/rest',
          protocolBinding: 'HTTP+JSON',
          protocolVersion: '1.0',
        },
        { url: 'http://agent.internal:7000', protocolBinding: 'GRPC', protocolVersion: '1.0' },
      ],
      provider: { organization: 'Acme', url: 'http://agent.internal/about' },
      documentationUrl: 'http://10.1.2.3:5555/a2a/jsonrpc/docs',
      iconUrl: 'https://cdn.example/icon.png',
      skills: [{ id: 's', name: 'S', tags: ['x'], examples: ['ask agent.internal'] }],
      signatures: [{ protected: 'e30', signature: 'sig' }],
    }
    const card = relayedCard(upstream, ctx)
    expect(card.signatures).toBeUndefined()
    expect(card.url).toBe(ctx.base)
    expect(card.additionalInterfaces).toEqual([{ url: ctx.base, transport: 'JSONRPC' }])
    expect(card.supportedInterfaces).toEqual([
      { url: ctx.base, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' },
      { url: `${ctx.base}/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
    ])
    // Under the registered URL: pointed at the relay. Elsewhere on an upstream host: left out.
    expect(card.documentationUrl).toBe(`${ctx.base}/docs`)
    expect(card.provider).toEqual({ organization: 'Acme' })
    // Text keeps its words; its URLs point at the relay and bare addresses are replaced.
    expect(card.description).toBe(`Runs at ${ctx.base}`)
    expect(card.skills).toEqual([{ id: 's', name: 'S', tags: ['x'], examples: ['ask [agent]'] }])
    expect(card.iconUrl).toBe('https://cdn.example/icon.png')
    const text = JSON.stringify(card)
    for (const h of ['10.1.2.3', 'agent.internal', '5555']) expect(text).not.toContain(h)
    // The upstream's object is left as it was.
    expect(upstream.signatures).toHaveLength(1)
  })

  test('a composed card speaks 0.3 and 1.0', () => {
    const card = composedCard(
      {
        name: 'registry-agent',
        description: null,
        version: null,
        capabilities: [
          { name: 'search', metadata: { description: 'Finds things' } },
          { name: 'sum', metadata: {} },
        ],
      },
      ctx.base,
    )
    expect(card).toMatchObject({
      name: 'registry-agent',
      url: ctx.base,
      preferredTransport: 'JSONRPC',
      protocolVersion: '0.3.0',
      additionalInterfaces: [{ url: ctx.base, transport: 'JSONRPC' }],
      supportedInterfaces: [
        { url: ctx.base, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
        { url: ctx.base, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
      ],
      capabilities: { streaming: true },
      skills: [
        { id: 'search', name: 'search', description: 'Finds things', tags: [] },
        { id: 'sum', name: 'sum', description: 'sum', tags: [] },
      ],
    })
  })
})
