import { z } from 'zod'

/** Any id: a malformed one is answered like an unknown one (404), not as bad input. */
export const RelayParams = z.object({
  permanentId: z.string().max(64).describe("The agent's permanent id (agt-…)"),
})
export const RelayPathParams = RelayParams.extend({
  '*': z.string().describe('The rest of the path, appended to the agent’s URL for the protocol'),
})

const AgentInterface = z
  .looseObject({
    url: z.string().describe('The relay URL of this interface'),
    protocolBinding: z.string().optional().describe('1.0: JSONRPC, HTTP+JSON'),
    transport: z.string().optional().describe('0.3: JSONRPC, HTTP+JSON'),
    protocolVersion: z.string().optional(),
  })
  .meta({ id: 'A2AAgentInterface' })

export const A2AAgentCard = z
  .looseObject({
    name: z.string(),
    description: z.string(),
    version: z.string(),
    supportedInterfaces: z.array(AgentInterface).optional().describe('A2A 1.0'),
    url: z.string().optional().describe('A2A 0.3: the main interface'),
    preferredTransport: z.string().optional().describe('A2A 0.3'),
    protocolVersion: z.string().optional().describe('A2A 0.3'),
    additionalInterfaces: z.array(AgentInterface).optional().describe('A2A 0.3'),
    capabilities: z.looseObject({ streaming: z.boolean().optional() }).optional(),
    skills: z.array(z.looseObject({ id: z.string(), name: z.string() })).optional(),
  })
  .describe(
    "The upstream's card with every interface URL pointing at the relay, no upstream address in it and its " +
      'signatures dropped; or, when the upstream serves none, a card composed from the registry with both the ' +
      '0.3 fields (url, preferredTransport, additionalInterfaces) and the 1.0 ones (supportedInterfaces).',
  )
  .meta({ id: 'A2AAgentCard' })

export const JsonRpcRequest = z
  .looseObject({
    jsonrpc: z.literal('2.0'),
    id: z.union([z.string(), z.number(), z.null()]).optional(),
    method: z.string(),
    params: z.unknown().optional(),
  })
  .describe('A JSON-RPC 2.0 request or notification, passed to the agent as it is')
  .meta({ id: 'JsonRpcRequest' })

export const JsonRpcResponse = z
  .looseObject({
    jsonrpc: z.literal('2.0'),
    id: z.union([z.string(), z.number(), z.null()]),
    result: z.unknown().optional(),
    error: z.looseObject({ code: z.number(), message: z.string() }).optional(),
  })
  .describe("The agent's JSON-RPC answer as it is (or a text/event-stream of them)")
  .meta({ id: 'JsonRpcResponse' })

export const RelayedAnswer = z
  .unknown()
  .describe("The agent's answer as it is: status, body, content-type and the protocol's headers")
  .meta({ id: 'RelayedAnswer' })

export const RelayedBody = z
  .unknown()
  .describe("The protocol's JSON (an OpenAI request, an A2A HTTP+JSON call), passed to the agent as it is")
  .meta({ id: 'RelayedBody' })
