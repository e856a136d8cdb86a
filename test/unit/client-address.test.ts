import assert from 'node:assert/strict';
import { parseTrustProxy, resolveClientAddress, type TrustProxy } from '../../src/api/core/trust-proxy';
import { ConfigError } from '../../src/config';
import { testConfig } from '../helpers/services';

/** Which address a request comes from, as far as TRUST_PROXY lets X-Forwarded-For say. */
describe('client address', () => {
  const trust = (value: string) => parseTrustProxy(value) as TrustProxy;

  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    assert.equal(resolveClientAddress(trust('false'), '203.0.113.9', '198.51.100.1'), '203.0.113.9');
  });

  it('takes the hop a trusted proxy reported, not what the client prepended', () => {
    assert.equal(resolveClientAddress(trust('10.0.0.0/8'), '10.1.2.3', '6.6.6.6, 198.51.100.7'), '198.51.100.7');
  });

  it('walks past a chain of trusted proxies', () => {
    assert.equal(resolveClientAddress(trust('10.0.0.0/8,192.0.2.1'), '10.1.2.3', '198.51.100.7, 192.0.2.1'), '198.51.100.7');
  });

  it('ignores the header when the peer is not a trusted proxy', () => {
    assert.equal(resolveClientAddress(trust('10.0.0.0/8'), '203.0.113.9', '198.51.100.7'), '203.0.113.9');
  });

  it('counts hops from the right with a hop count', () => {
    assert.equal(resolveClientAddress(trust('1'), '10.1.2.3', '6.6.6.6, 198.51.100.7'), '198.51.100.7');
  });

  it('reads an IPv4-mapped peer as IPv4', () => {
    assert.equal(resolveClientAddress(trust('127.0.0.1'), '::ffff:127.0.0.1', '198.51.100.7'), '198.51.100.7');
  });

  it('refuses TRUST_PROXY=true: the proxies must be named', () => {
    assert.throws(() => testConfig({ TRUST_PROXY: 'true' }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('TRUST_PROXY')));
  });

  it('accepts a list of addresses and CIDRs', () => {
    assert.deepEqual(testConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).http.trustProxy, { kind: 'list', entries: ['10.0.0.0/8', '::1'] });
  });
});
