// The RBAC engine on its own: Envoy RBAC policies (envoy.config.rbac.v3) compiled once and checked
// against a real accepted connection and request views; Envoy's MetadataMatcher / ValueMatcher; and
// the config errors a user sees for what is not supported.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { compileMetadataMatcher, metadataMatches } from '../../src/proxy/http/metadata-matcher.ts';
import { ConnectionFacts } from '../../src/proxy/rbac/connection-facts.ts';
import { RbacAction, compileRbacEngine } from '../../src/proxy/rbac/engine.ts';
import type { RbacHttpRequest } from '../../src/proxy/rbac/matcher.ts';
import { ConfigRejectedError, FieldPath } from '../../src/proxy/upstream/envoy-config.ts';

type Obj = Record<string, unknown>;
type Metadata = Record<string, Record<string, unknown>>;

let server: net.Server;
let client: net.Socket;
let accepted: net.Socket;
let facts: ConnectionFacts;
let serverPort: number;

before(async () => {
  server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  serverPort = (server.address() as net.AddressInfo).port;
  const acceptedP = once(server, 'connection') as Promise<[net.Socket]>;
  client = net.connect(serverPort, '127.0.0.1');
  [accepted] = await acceptedP;
  facts = new ConnectionFacts(accepted);
});

after(async () => {
  client?.destroy();
  accepted?.destroy();
  await new Promise((r) => server.close(r));
});

function request(path: string, headers: string[] = [], dynamicMetadata: Metadata | null = null, method = 'GET'): RbacHttpRequest {
  return { method, authority: 'reviews.default.svc:9080', path, requestHeaders: headers, dynamicMetadata };
}

const at = new FieldPath('Listener test', 'rules');

/** Whether the rules let `http` (null: a connection at L4) through. */
function allowed(rules: Obj, http: RbacHttpRequest | null): boolean {
  const engine = compileRbacEngine(at, rules);
  return engine.allows(engine.matchedPolicy(facts, http));
}

function onePolicy(action: string, permission: Obj, principal: Obj = { any: true }): Obj {
  return { action, policies: { p: { permissions: [permission], principals: [principal] } } };
}

describe('RBAC actions', () => {
  it('ALLOW lets a request through only when a policy matches', () => {
    const rules = onePolicy('ALLOW', { url_path: { path: { prefix: '/public' } } });
    assert.equal(allowed(rules, request('/public/a')), true);
    assert.equal(allowed(rules, request('/private')), false);
  });

  it('DENY stops a request only when a policy matches', () => {
    const rules = onePolicy('DENY', { url_path: { path: { prefix: '/admin' } } });
    assert.equal(allowed(rules, request('/admin/x')), false);
    assert.equal(allowed(rules, request('/home')), true);
  });

  it('LOG lets everything through but reports the matching policy', () => {
    const engine = compileRbacEngine(at, onePolicy('LOG', { any: true }));
    assert.equal(engine.action, RbacAction.Log);
    const matched = engine.matchedPolicy(facts, request('/'));
    assert.equal(matched?.name, 'p');
    assert.equal(engine.allows(matched), true);
  });

  it('ALLOW with no policies denies everything, DENY with no policies allows everything', () => {
    assert.equal(allowed({ action: 'ALLOW' }, request('/')), false);
    assert.equal(allowed({ action: 'DENY', policies: {} }, request('/')), true);
  });

  it('reports the first matching policy by name, as Envoy orders its policy map', () => {
    const engine = compileRbacEngine(at, {
      action: 'DENY',
      policies: { 'z-last': { permissions: [{ any: true }], principals: [{ any: true }] }, 'a-first': { permissions: [{ any: true }], principals: [{ any: true }] } },
    });
    assert.equal(engine.matchedPolicy(facts, request('/'))?.name, 'a-first');
  });

  it('needs a matching permission and a matching principal in the same policy', () => {
    const rules = onePolicy('ALLOW', { any: true }, { direct_remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } });
    assert.equal(allowed(rules, request('/')), false);
  });
});

describe('RBAC permissions', () => {
  it('url_path matches the path without its query string', () => {
    const rules = onePolicy('ALLOW', { url_path: { path: { exact: '/exact' } } });
    assert.equal(allowed(rules, request('/exact?debug=1')), true);
    assert.equal(allowed(rules, request('/exact#frag')), true);
    assert.equal(allowed(rules, request('/exact/more')), false);
  });

  it('header matches pseudo-headers :method, :path and :authority and plain headers', () => {
    assert.equal(allowed(onePolicy('ALLOW', { header: { name: ':method', string_match: { exact: 'POST' } } }), request('/', [], null, 'POST')), true);
    assert.equal(allowed(onePolicy('ALLOW', { header: { name: ':method', string_match: { exact: 'POST' } } }), request('/')), false);
    assert.equal(allowed(onePolicy('ALLOW', { header: { name: ':path', string_match: { prefix: '/a?' } } }), request('/a?x=1')), true);
    assert.equal(allowed(onePolicy('ALLOW', { header: { name: ':authority', string_match: { prefix: 'reviews.' } } }), request('/')), true);
    assert.equal(allowed(onePolicy('ALLOW', { header: { name: 'x-user', string_match: { exact: 'alice' } } }), request('/', ['x-user', 'alice'])), true);
    assert.equal(allowed(onePolicy('ALLOW', { header: { name: 'x-user', present_match: true } }), request('/')), false);
  });

  it('and_rules, or_rules and not_rule combine rules', () => {
    const get = { header: { name: ':method', string_match: { exact: 'GET' } } };
    const api = { url_path: { path: { prefix: '/api' } } };
    assert.equal(allowed(onePolicy('ALLOW', { and_rules: { rules: [get, api] } }), request('/api/x')), true);
    assert.equal(allowed(onePolicy('ALLOW', { and_rules: { rules: [get, api] } }), request('/web')), false);
    assert.equal(allowed(onePolicy('ALLOW', { or_rules: { rules: [get, api] } }), request('/web')), true);
    assert.equal(allowed(onePolicy('ALLOW', { not_rule: api }), request('/web')), true);
    assert.equal(allowed(onePolicy('ALLOW', { not_rule: api }), request('/api')), false);
  });

  it('destination_ip, destination_port and destination_port_range match where the client connected', () => {
    assert.equal(allowed(onePolicy('ALLOW', { destination_ip: { address_prefix: '127.0.0.0', prefix_len: 8 } }), null), true);
    assert.equal(allowed(onePolicy('ALLOW', { destination_ip: { address_prefix: '10.0.0.0', prefix_len: { value: 8 } } }), null), false);
    assert.equal(allowed(onePolicy('ALLOW', { destination_port: serverPort }), null), true);
    assert.equal(allowed(onePolicy('ALLOW', { destination_port: serverPort === 1 ? 2 : 1 }), null), false);
    assert.equal(allowed(onePolicy('ALLOW', { destination_port_range: { start: serverPort, end: serverPort + 1 } }), null), true);
    assert.equal(allowed(onePolicy('ALLOW', { destination_port_range: { start: serverPort - 1, end: serverPort } }), null), false, 'the range end is exclusive');
  });

  it('requested_server_name is empty on a plaintext connection', () => {
    assert.equal(allowed(onePolicy('ALLOW', { requested_server_name: { exact: '' } }), null), true);
    assert.equal(allowed(onePolicy('ALLOW', { requested_server_name: { prefix: 'web' } }), null), false);
  });

  it('metadata matches the dynamic metadata earlier filters left', () => {
    const rules = onePolicy('DENY', { metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'iss' }], value: { string_match: { exact: 'evil' } } } });
    assert.equal(allowed(rules, request('/', [], { 'envoy.filters.http.jwt_authn': { payload: { iss: 'evil' } } })), false);
    assert.equal(allowed(rules, request('/', [], { 'envoy.filters.http.jwt_authn': { payload: { iss: 'good' } } })), true);
    assert.equal(allowed(rules, request('/')), true);
  });

  it('HTTP-only permissions and principals never match a connection at L4', () => {
    assert.equal(allowed(onePolicy('ALLOW', { header: { name: 'x', present_match: false, invert_match: true } }), null), false);
    assert.equal(allowed(onePolicy('ALLOW', { url_path: { path: { prefix: '/' } } }), null), false);
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { header: { name: ':method', string_match: { prefix: '' } } }), null), false);
  });
});

describe('RBAC principals', () => {
  it('direct_remote_ip, remote_ip and the deprecated source_ip are the peer address', () => {
    for (const kind of ['direct_remote_ip', 'remote_ip', 'source_ip']) {
      assert.equal(allowed(onePolicy('ALLOW', { any: true }, { [kind]: { address_prefix: '127.0.0.1', prefix_len: 32 } }), null), true, kind);
      assert.equal(allowed(onePolicy('ALLOW', { any: true }, { [kind]: { address_prefix: '192.168.0.0', prefix_len: 16 } }), null), false, kind);
    }
  });

  it('and_ids, or_ids and not_id combine principals', () => {
    const local = { direct_remote_ip: { address_prefix: '127.0.0.1', prefix_len: 32 } };
    const remote = { direct_remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } };
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { and_ids: { ids: [local, remote] } }), null), false);
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { or_ids: { ids: [remote, local] } }), null), true);
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { not_id: remote }), null), true);
  });

  it('authenticated never matches a plaintext peer', () => {
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { authenticated: {} }), null), false);
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { authenticated: { principal_name: { prefix: '' } } }), null), false);
    assert.equal(facts.peerIdentity(), null);
  });

  it('header and url_path principals read the request', () => {
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { header: { name: 'x-tenant', string_match: { exact: 'a' } } }), request('/', ['x-tenant', 'a'])), true);
    assert.equal(allowed(onePolicy('ALLOW', { any: true }, { url_path: { path: { suffix: '.json' } } }), request('/x.json?y')), true);
  });
});

describe('metadata matcher', () => {
  const md: Metadata = {
    f: { s: 'text', n: 5, b: true, nil: null, list: ['a', 'b'], nested: { k: 'v' } },
  };
  const check = (path: string[], value: Obj, invert = false): boolean => metadataMatches(
    compileMetadataMatcher(new FieldPath('test'), { filter: 'f', path: path.map((key) => ({ key })), value, invert }), md);

  it('matches strings, numbers, booleans, null and presence', () => {
    assert.equal(check(['s'], { string_match: { exact: 'text' } }), true);
    assert.equal(check(['n'], { string_match: { exact: '5' } }), false, 'a number is not a string');
    assert.equal(check(['n'], { double_match: { exact: 5 } }), true);
    assert.equal(check(['n'], { double_match: { range: { start: 1, end: 5 } } }), false, 'the range end is exclusive');
    assert.equal(check(['n'], { double_match: { range: { start: 5, end: 6 } } }), true);
    assert.equal(check(['b'], { bool_match: true }), true);
    assert.equal(check(['b'], { bool_match: false }), false);
    assert.equal(check(['nil'], { null_match: {} }), true);
    assert.equal(check(['missing'], { null_match: {} }), false, 'an absent value is not null');
    assert.equal(check(['s'], { present_match: true }), true);
    assert.equal(check(['missing'], { present_match: true }), false);
    assert.equal(check(['s'], { present_match: false }), false, 'present_match false matches nothing, as in Envoy');
  });

  it('walks nested structs, matches lists by one_of, and or_match', () => {
    assert.equal(check(['nested', 'k'], { string_match: { exact: 'v' } }), true);
    assert.equal(check(['s', 'k'], { present_match: true }), false, 'a string has no keys');
    assert.equal(check(['list'], { list_match: { one_of: { string_match: { exact: 'b' } } } }), true);
    assert.equal(check(['list'], { list_match: { one_of: { string_match: { exact: 'c' } } } }), false);
    assert.equal(check(['s'], { or_match: { value_matchers: [{ bool_match: true }, { string_match: { prefix: 'te' } }] } }), true);
  });

  it('invert negates the result, an absent value included', () => {
    assert.equal(check(['missing'], { present_match: true }, true), true);
    assert.equal(check(['s'], { string_match: { exact: 'text' } }, true), false);
    assert.equal(metadataMatches(compileMetadataMatcher(new FieldPath('t'), { filter: 'g', path: [{ key: 'k' }], value: { present_match: true }, invert: true }), null), true);
  });

  it('rejects a matcher without a value or a path, naming the field', () => {
    assert.throws(() => compileMetadataMatcher(new FieldPath('R'), { filter: 'f', path: [{ key: 'k' }] }), /R: value is required/);
    assert.throws(() => compileMetadataMatcher(new FieldPath('R'), { filter: 'f', path: [], value: { present_match: true } }), /R: path must have at least one segment/);
    assert.throws(() => compileMetadataMatcher(new FieldPath('R'), { filter: 'f', path: [{ key: 'k' }], value: { or_match: { value_matchers: [{ bool_match: true }] } } }),
      /value\.or_match\.value_matchers must have at least two matchers/);
  });
});

describe('RBAC config errors', () => {
  const cases: [string, Obj, RegExp][] = [
    ['a CEL condition', { action: 'ALLOW', policies: { p: { permissions: [{ any: true }], principals: [{ any: true }], condition: { id: 1 } } } }, /rules\.policies\[p\]\.condition \(a CEL expression\) is not supported/],
    ['a checked CEL condition', { action: 'ALLOW', policies: { p: { permissions: [{ any: true }], principals: [{ any: true }], checked_condition: {} } } }, /checked_condition \(a CEL expression\) is not supported/],
    ['a uri_template permission', onePolicy('ALLOW', { uri_template: { name: 'x' } }), /permissions\[0\]\.uri_template \(URI template matching\) is not supported/],
    ['a matcher permission', onePolicy('ALLOW', { matcher: { name: 'x' } }), /permissions\[0\]\.matcher \(a permission matcher extension\) is not supported/],
    ['a filter_state principal', onePolicy('ALLOW', { any: true }, { filter_state: { key: 'k' } }), /principals\[0\]\.filter_state \(filter state matching\) is not supported/],
    ['a policy without principals', { action: 'ALLOW', policies: { p: { permissions: [{ any: true }] } } }, /policies\[p\]\.principals must have at least one principal/],
    ['a permission with two rules', onePolicy('ALLOW', { any: true, destination_port: 80 }), /sets any and destination_port; a permission has exactly one rule/],
    ['an unknown action', { action: 'AUDIT' }, /rules\.action AUDIT is not one of ALLOW, DENY, LOG/],
    ['any: false', onePolicy('ALLOW', { any: false }), /permissions\[0\]\.any must be true/],
    ['audit logging', { action: 'ALLOW', audit_logging_options: { audit_condition: 'ON_DENY' } }, /audit_logging_options \(audit loggers\) is not supported/],
  ];
  for (const [what, rules, message] of cases) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(() => compileRbacEngine(at, rules), (err: unknown) => {
        assert.ok(err instanceof ConfigRejectedError, String(err));
        assert.match(err.message, /^Listener test: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
