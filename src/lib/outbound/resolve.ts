import { lookup as dnsLookup } from 'node:dns/promises'

export type ResolvedAddress = { address: string; family: 4 | 6 }

/** Resolves a host name to every address it has; rejects (or answers []) when it has none. */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>

export const systemLookup: Lookup = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true })
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))
}
