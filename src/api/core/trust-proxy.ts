import { BlockList, isIP } from 'node:net';

/**
 * The client's address, for rate limits, throttles and anonymous idempotency scopes.
 * `X-Forwarded-For` is written by whoever sent the request, so it is believed only as
 * far as TRUST_PROXY says: walking the header from the right (the hop nearest to us),
 * each address is taken only while the hop that reported it is a trusted proxy.
 *
 *   none            the socket's address; the header is ignored
 *   hops: n         the n-th address from the right (n proxies in front of us)
 *   list of CIDRs   skip trusted proxies from the right; the first untrusted is the client
 */

export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'list'; entries: string[] };

/** Parses TRUST_PROXY: `false`/empty/`0`, a hop count, or a comma-separated list of addresses and CIDRs. */
export function parseTrustProxy(value: string): TrustProxy | { error: string } {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === 'false' || trimmed === '0') return { kind: 'none' };
  if (/^\d+$/.test(trimmed)) return { kind: 'hops', hops: Number(trimmed) };
  const entries = trimmed
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!cidr(entry)) {
      return { error: `"${entry}" is not an IP address or CIDR; name the proxies (e.g. 10.0.0.0/8,127.0.0.1), give a hop count, or false` };
    }
  }
  return { kind: 'list', entries };
}

function cidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText] = entry.split('/');
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d+$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as Node reports IPv4 peers on a dual-stack socket) as plain IPv4. */
export const unmapped = (address: string) => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

export function resolveClientAddress(trust: TrustProxy, socketAddress: string, forwardedFor: string): string {
  const peer = unmapped(socketAddress);
  if (trust.kind === 'none') return peer;
  const hops = forwardedFor
    .split(',')
    .map((a) => unmapped(a.trim()))
    .filter((a) => isIP(a) !== 0);
  // The chain as we see it, nearest last: every forwarded address, then the socket peer.
  const chain = [...hops, peer];
  if (trust.kind === 'hops') return chain[Math.max(0, chain.length - 1 - trust.hops)] ?? peer;
  const trusted = new BlockList();
  for (const entry of trust.entries) {
    const parsed = cidr(entry);
    if (parsed) trusted.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  const isTrusted = (address: string) => trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  for (let i = chain.length - 1; i > 0; i--) {
    if (!isTrusted(chain[i] as string)) return chain[i] as string;
  }
  return chain[0] as string;
}
