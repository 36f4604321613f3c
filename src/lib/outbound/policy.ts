import ipaddr from 'ipaddr.js'

/**
 * Which IP addresses the gateway may connect to. Pure: no DNS, no I/O.
 *
 * Everything that is not plainly public unicast is refused and the refusal names its rule. An
 * operator's allowed CIDR wins over every rule (that is how local agents on 127.0.0.0/8 work).
 */
export type AddressRule =
  | 'invalid_address'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared_address'
  | 'link_local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'ipv4_mapped'
  | 'ipv4_compatible'
  | 'nat64'
  | '6to4'
  | 'teredo'
  | 'unique_local'
  | 'site_local'

export type Verdict = { allowed: true } | { allowed: false; rule: AddressRule; message: string }

export interface AddressPolicy {
  judge(address: string): Verdict
}

type IP = ipaddr.IPv4 | ipaddr.IPv6
type Cidr = [IP, number]
type Range = { rule: AddressRule; cidr: Cidr; text: string }

const range = (rule: AddressRule, text: string): Range => ({ rule, cidr: ipaddr.parseCIDR(text), text })

// First match wins, so the narrow ranges (metadata, broadcast) come before the wide ones holding them.
const V4: Range[] = [
  range('metadata', '169.254.169.254/32'), // AWS, GCP, Azure, DigitalOcean, Oracle
  range('metadata', '169.254.170.2/32'), // AWS ECS task credentials
  range('metadata', '100.100.100.200/32'), // Alibaba Cloud
  range('metadata', '192.0.0.192/32'), // Oracle Cloud Classic
  range('unspecified', '0.0.0.0/8'),
  range('private', '10.0.0.0/8'),
  range('shared_address', '100.64.0.0/10'),
  range('loopback', '127.0.0.0/8'),
  range('link_local', '169.254.0.0/16'),
  range('private', '172.16.0.0/12'),
  range('reserved', '192.0.0.0/24'),
  range('documentation', '192.0.2.0/24'),
  range('reserved', '192.88.99.0/24'),
  range('private', '192.168.0.0/16'),
  range('benchmarking', '198.18.0.0/15'),
  range('documentation', '198.51.100.0/24'),
  range('documentation', '203.0.113.0/24'),
  range('multicast', '224.0.0.0/4'),
  range('broadcast', '255.255.255.255/32'),
  range('reserved', '240.0.0.0/4'),
]

const V6_BEFORE_EMBEDDED: Range[] = [
  range('unspecified', '::/128'),
  range('loopback', '::1/128'),
  range('metadata', 'fd00:ec2::254/128'), // AWS IMDS over IPv6
]

const V6: Range[] = [
  range('benchmarking', '2001:2::/48'),
  range('reserved', '2001::/23'),
  range('documentation', '2001:db8::/32'),
  range('documentation', '3fff::/20'),
  range('unique_local', 'fc00::/7'),
  range('link_local', 'fe80::/10'),
  range('site_local', 'fec0::/10'),
  range('multicast', 'ff00::/8'),
]

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3')

/** IPv6 ranges that carry an IPv4 address; connecting to them reaches that IPv4 address. */
type Embedding = { rule: AddressRule; cidr: Cidr; text: string; v4: (b: number[]) => number[][] }

const tail = (b: number[]) => [b.slice(12, 16)]
// RFC 6052: the IPv4 bytes follow the prefix, skipping byte 8. A local-use /48 may hold any of
// the /48../96 layouts, so every one of them is judged.
const rfc6052 = (b: number[], prefixBits: number) =>
  b.filter((_, i) => i >= prefixBits / 8 && i !== 8).slice(0, 4)

const embed = (rule: AddressRule, text: string, v4: Embedding['v4']): Embedding => ({
  rule,
  cidr: ipaddr.parseCIDR(text),
  text,
  v4,
})

const EMBEDDINGS: Embedding[] = [
  embed('ipv4_mapped', '::ffff:0:0/96', tail),
  embed('ipv4_compatible', '::/96', tail),
  embed('nat64', '64:ff9b::/96', tail),
  embed('nat64', '64:ff9b:1::/48', (b) => [48, 56, 64, 96].map((p) => rfc6052(b, p))),
  embed('6to4', '2002::/16', (b) => [b.slice(2, 6)]),
  // Teredo: the server, and the client address stored inverted.
  embed('teredo', '2001::/32', (b) => [b.slice(4, 8), b.slice(12, 16).map((x) => x ^ 0xff)]),
]

/** Parses the operator's CIDRs once; a bare address means that one host. Throws on a bad entry. */
export function parseAllowedNetworks(networks: readonly string[]): Cidr[] {
  return networks.map((n) => {
    try {
      if (n.includes('/')) return ipaddr.parseCIDR(n)
      const ip = ipaddr.parse(n)
      return [ip, ip.kind() === 'ipv4' ? 32 : 128] as Cidr
    } catch {
      throw new Error(`allowed network "${n}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`)
    }
  })
}

export function createAddressPolicy(allowedNetworks: readonly string[]): AddressPolicy {
  const allowed = parseAllowedNetworks(allowedNetworks)
  const isAllowed = (ip: IP) => allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))

  const judgeIp = (ip: IP, shown: string): Verdict => {
    if (isAllowed(ip)) return ALLOWED
    if (ip.kind() === 'ipv4') return refusedBy(firstMatch(ip, V4), shown)
    const v6 = ip as ipaddr.IPv6
    const fixed = firstMatch(v6, V6_BEFORE_EMBEDDED)
    if (fixed) return refusedBy(fixed, shown)
    const embedding = EMBEDDINGS.find((e) => v6.match(e.cidr))
    if (embedding) return judgeEmbedded(embedding, v6, shown)
    const r = firstMatch(v6, V6)
    if (r) return refusedBy(r, shown)
    if (!v6.match(GLOBAL_UNICAST_V6)) {
      return { allowed: false, rule: 'reserved', message: `${shown} is not global unicast (reserved)` }
    }
    return ALLOWED
  }

  const judgeEmbedded = (e: Embedding, v6: ipaddr.IPv6, shown: string): Verdict => {
    for (const octets of e.v4(v6.toByteArray())) {
      const v4 = new ipaddr.IPv4(octets)
      const inner = judgeIp(v4, v4.toString())
      if (!inner.allowed) {
        return { allowed: false, rule: e.rule, message: `${shown} (${e.rule}) embeds ${inner.message}` }
      }
    }
    return ALLOWED
  }

  return {
    judge(address) {
      let ip: IP
      try {
        // ipaddr.js reads the deprecated '::a.b.c.d' as mapped; the verdict is the same either way.
        ip = ipaddr.parse(address)
      } catch {
        return { allowed: false, rule: 'invalid_address', message: `${address} is not an IP address` }
      }
      return judgeIp(ip, address)
    },
  }
}

const ALLOWED: Verdict = { allowed: true }

const firstMatch = (ip: IP, ranges: Range[]) =>
  ranges.find((r) => r.cidr[0].kind() === ip.kind() && ip.match(r.cidr))

const refusedBy = (r: Range | undefined, shown: string): Verdict =>
  r ? { allowed: false, rule: r.rule, message: `${shown} is ${r.rule} (${r.text})` } : ALLOWED
