// Virtual host selection on the compiled table itself: Envoy's precedence, ports, IPv6 hosts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration } from '../../src/proxy/http/routing/route-config.ts';
import { route, routeConfig, routeTo, virtualHost } from './support/resources.ts';

const context = { clusterExists: () => true };
const table = (domains: Record<string, string[]>, extra: Record<string, unknown> = {}) => compileRouteConfiguration('RouteConfiguration t',
  routeConfig('t', Object.entries(domains).map(([name, d]) => virtualHost(name, d, [route({ prefix: '/' }, routeTo(name))])), extra), context, false);
const hostFor = (t: ReturnType<typeof table>, authority: string) => t.findVirtualHost(authority)?.name ?? null;

describe('virtual host table', () => {
  it('prefers the longest suffix wildcard and needs at least one character for the *', () => {
    const t = table({ short: ['*.com'], long: ['*.example.com'], dash: ['*-api.example.com'] });
    assert.equal(hostFor(t, 'a.example.com'), 'long');
    assert.equal(hostFor(t, 'orders-api.example.com'), 'dash');
    assert.equal(hostFor(t, 'other.com'), 'short');
    assert.equal(hostFor(t, '.example.com'), 'short');
    assert.equal(hostFor(t, 'example.org'), null);
  });

  it('prefers the longest prefix wildcard after suffix wildcards', () => {
    const t = table({ p1: ['api.*'], p2: ['api.v2.*'], s: ['*.internal'] });
    assert.equal(hostFor(t, 'api.v2.local'), 'p2');
    assert.equal(hostFor(t, 'api.v1.local'), 'p1');
    assert.equal(hostFor(t, 'api.internal'), 's');
  });

  it('matches the port as part of the host unless ignore_port_in_host_matching', () => {
    const strict = table({ r: ['reviews'], d: ['*'] });
    assert.equal(hostFor(strict, 'reviews:9080'), 'd');
    const lax = table({ r: ['reviews', '[::1]'], d: ['*'] }, { ignore_port_in_host_matching: true });
    assert.equal(hostFor(lax, 'reviews:9080'), 'r');
    assert.equal(hostFor(lax, '[::1]:9080'), 'r');
    assert.equal(hostFor(lax, '[::1]'), 'r');
  });
});
