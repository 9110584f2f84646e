// Filter chain selection in Envoy's order, on a real accepted connection (127.0.0.1 to 127.0.0.1) with
// the SNI / transport / ALPN a listener filter would have set: the most specific value wins at each
// step, a later step never backtracks to a less specific chain; and the matches that cannot coexist
// or cannot be honoured are rejected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ConnectionInfo } from '../../../src/proxy/listener/connection-info.ts';
import { FilterChainSelector, checkDistinctMatches, compileFilterChainMatch } from '../../../src/proxy/listener/filter-chain-match.ts';
import { FieldPath } from '../../../src/proxy/upstream/envoy-config.ts';

let server: net.Server;
let client: net.Socket;
let accepted: net.Socket;

before(async () => {
  server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const acceptedOnce = once(server, 'connection');
  client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  [accepted] = (await acceptedOnce) as [net.Socket];
});

after(() => {
  client.destroy();
  accepted.destroy();
  server.close();
});

const root = new FieldPath('Listener l');

/** Selects among chains named by their keys; null when none matches. */
function select(chains: Record<string, object>, conn: { sni?: string; transport?: string; alpn?: string[] } = {}): string | null {
  const entries = Object.entries(chains).map(([name, match], i) => ({ match: compileFilterChainMatch(root.field('filter_chains').item(i).field('filter_chain_match'), match), chain: name }));
  checkDistinctMatches(entries.map((e, i) => ({ at: root.field('filter_chains').item(i), label: e.chain, match: e.match })));
  const info = new ConnectionInfo(accepted);
  info.serverName = conn.sni ?? '';
  info.transportProtocol = conn.transport ?? '';
  info.applicationProtocols = conn.alpn ?? [];
  return new FilterChainSelector(entries).select(info);
}

const port = () => accepted.localPort!;
const cidr = (address_prefix: string, len: number) => ({ address_prefix, prefix_len: { value: len } });

describe('filter chain selection', () => {
  it('prefers an exact server name, then the longest wildcard, then no server_names', () => {
    const chains = {
      exact: { server_names: ['api.shop.example.com'] },
      'wild-shop': { server_names: ['*.shop.example.com'] },
      'wild-example': { server_names: ['*.example.com'] },
      any: {},
    };
    assert.equal(select(chains, { sni: 'api.shop.example.com' }), 'exact');
    assert.equal(select(chains, { sni: 'web.shop.example.com' }), 'wild-shop');
    assert.equal(select(chains, { sni: 'shop.example.com' }), 'wild-example');
    assert.equal(select(chains, { sni: 'example.com' }), 'any', 'a wildcard needs a label before its suffix');
    assert.equal(select(chains, {}), 'any', 'no SNI matches only chains without server_names');
  });

  it('does not backtrack: a server name match that fails transport_protocol matches nothing', () => {
    assert.equal(select({ named: { server_names: ['a.example.com'], transport_protocol: 'tls' }, any: {} }, { sni: 'a.example.com' }), null);
  });

  it('reads an undetected transport protocol as raw_buffer', () => {
    const chains = { tls: { transport_protocol: 'tls' }, raw: { transport_protocol: 'raw_buffer' } };
    assert.equal(select(chains, {}), 'raw');
    assert.equal(select(chains, { transport: 'tls' }), 'tls');
  });

  it('takes the first ALPN of the client that some chain names', () => {
    const chains = { h2: { application_protocols: ['h2'] }, http11: { application_protocols: ['http/1.1', 'http/1.0'] }, any: {} };
    assert.equal(select(chains, { alpn: ['http/1.1', 'h2'] }), 'http11');
    assert.equal(select(chains, { alpn: ['h2', 'http/1.1'] }), 'h2');
    assert.equal(select(chains, { alpn: ['spdy/3'] }), 'any');
  });

  it('prefers the destination port, then the longest destination prefix', () => {
    assert.equal(select({ port: { destination_port: { value: port() } }, any: {} }), 'port');
    assert.equal(select({ other: { destination_port: { value: port() === 1 ? 2 : port() - 1 } }, any: {} }), 'any');
    const byPrefix = { wide: { prefix_ranges: [cidr('127.0.0.0', 8)] }, narrow: { prefix_ranges: [cidr('127.0.0.1', 32)] }, v6: { prefix_ranges: [cidr('::1', 128)] }, any: {} };
    assert.equal(select(byPrefix), 'narrow');
    assert.equal(select({ elsewhere: { prefix_ranges: [cidr('10.0.0.0', 8)] }, any: {} }), 'any');
  });

  it('matches source type, source prefix and source port after the rest', () => {
    assert.equal(select({ local: { source_type: 'SAME_IP_OR_LOOPBACK' }, any: {} }), 'local');
    assert.equal(select({ external: { source_type: 'EXTERNAL' }, any: {} }), 'any');
    assert.equal(select({ src: { source_prefix_ranges: [cidr('127.0.0.1', 32)] }, direct: { direct_source_prefix_ranges: [cidr('127.0.0.0', 8)] } }), 'direct',
      'the direct source comes before the source');
    assert.equal(select({ thisPort: { source_ports: [accepted.remotePort!] }, any: {} }), 'thisPort');
  });
});

describe('filter chain matches that are rejected', () => {
  const rejects = (chains: Record<string, object>, message: RegExp) => assert.throws(() => select(chains), (e: Error) => e.name === 'ConfigRejectedError' && message.test(e.message), String(message));

  it('rejects two chains with the same matching rules', () => {
    rejects({ a: { server_names: ['x.example.com', 'y.example.com'] }, b: { server_names: ['Y.example.com', 'x.example.com'] } },
      /^Listener l: filter_chains\[1\]\.filter_chain_match has the same matching rules as a \(multiple filter chains with the same matching rules are defined\)/);
    rejects({ a: {}, b: {} }, /filter_chains\[1\]\.filter_chain_match has the same matching rules as a/);
  });

  it('rejects chains that overlap on a value', () => {
    rejects({ a: { server_names: ['x.example.com', 'y.example.com'] }, b: { server_names: ['y.example.com'] } }, /filter_chains\[1\]\.filter_chain_match overlaps a/);
  });

  it('accepts chains that differ in one criterion', () => {
    assert.equal(select({ a: { server_names: ['x.example.com'] }, b: { server_names: ['x.example.com'], transport_protocol: 'tls' } }, { sni: 'x.example.com' }), 'a');
  });

  it('rejects partial wildcards, address_suffix and unknown fields', () => {
    rejects({ a: { server_names: ['api.*.example.com'] } }, /server_names\[0\] api\.\*\.example\.com: partial wildcards are not supported/);
    rejects({ a: { server_names: ['*'] } }, /partial wildcards are not supported/);
    rejects({ a: { address_suffix: 'x' } }, /filter_chain_match\.address_suffix is not supported/);
    rejects({ a: { prefix_ranges: [{ address_prefix: 'not-an-ip' }] } }, /prefix_ranges\[0\]\.address_prefix "not-an-ip" is not an IP address/);
    rejects({ a: { prefix_ranges: [cidr('10.0.0.0', 33)] } }, /prefix_ranges\[0\]\.prefix_len 33 is out of range/);
    rejects({ a: { destination_port: { value: 70000 } } }, /destination_port 70000 is not a valid port/);
    rejects({ a: { source_type: 'NEARBY' } }, /source_type NEARBY is not a source type/);
  });
});
