import { z } from 'zod'

/**
 * The agent protocols Switchboard knows, in one place: the registration schema, the
 * `X-Switchboard-Protocol` header, the relays and the OpenAPI enums all derive from this list.
 */
export const PROTOCOLS = ['mcp', 'a2a', 'openai', 'anp', 'acp'] as const
export type ProtocolName = (typeof PROTOCOLS)[number]

export const ProtocolNameSchema = z.enum(PROTOCOLS).meta({ id: 'ProtocolName' })

/** The protocols outside clients reach through `/relay/{permanentId}/…`. */
export const RELAYED_PROTOCOLS = ['a2a', 'mcp', 'openai'] as const satisfies readonly ProtocolName[]
export type RelayedProtocol = (typeof RELAYED_PROTOCOLS)[number]

export const isProtocol = (v: string): v is ProtocolName => (PROTOCOLS as readonly string[]).includes(v)
