// Field-by-field validation of PeerAuthentication, AuthorizationPolicy and RequestAuthentication, as
// a table: for every field, a YAML snippet with a bad value and the exact error Weft gives
// (`Kind namespace/name: spec.path: reason`). A second table holds values Istio accepts that a
// stricter reading might refuse; they must stay valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { validateResource } from '../../src/api/index.ts';

type Kind = 'PeerAuthentication' | 'AuthorizationPolicy' | 'RequestAuthentication';

interface Row {
  /** The field, as in Istio's reference (`rules.from.source.principals`). */
  readonly field: string;
  /** What is wrong with the value, in a few words. */
  readonly bad: string;
  /** The spec, as YAML. */
  readonly spec: string;
  /** Every error expected, after `Kind default/policy: `. */
  readonly errors: readonly string[];
}

function manifest(kind: Kind, spec: string): string {
  const body = spec.trim().split('\n').map((l) => `  ${l}`).join('\n');
  return `apiVersion: security.istio.io/v1\nkind: ${kind}\nmetadata: { name: policy, namespace: default }\nspec:\n${body}\n`;
}

function check(kind: Kind, spec: string): { valid: boolean; errors: string[] } {
  const { resource, errors } = validateResource(parse(manifest(kind, spec)));
  return { valid: resource !== undefined, errors: errors.map((e) => e.text) };
}

function rejectTable(kind: Kind, rows: readonly Row[]): void {
  for (const row of rows) {
    test(`${kind} ${row.field}: rejects ${row.bad}`, () => {
      const result = check(kind, row.spec);
      assert.equal(result.valid, false, 'the resource must be refused');
      assert.deepEqual(result.errors, row.errors.map((e) => `${kind} default/policy: ${e}`));
    });
  }
}

function acceptTable(kind: Kind, rows: readonly { field: string; good: string; spec: string }[]): void {
  for (const row of rows) {
    test(`${kind} ${row.field}: accepts ${row.good} (as Istio does)`, () => {
      assert.deepEqual(check(kind, row.spec), { valid: true, errors: [] });
    });
  }
}

const LABEL_VALUE = '(at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)';
const WITH_SELECTOR = 'selector: { matchLabels: { app: reviews } }';

rejectTable('PeerAuthentication', [
  { field: 'selector.matchLabels', bad: 'a wildcard value', spec: 'selector: { matchLabels: { app: "*" } }', errors: [`spec.selector.matchLabels.app: invalid label value "*" ${LABEL_VALUE}`] },
  { field: 'selector.matchLabels', bad: 'an empty key', spec: 'selector: { matchLabels: { "": x } }', errors: ['spec.selector.matchLabels[""]: invalid label key ""'] },
  { field: 'selector', bad: 'an unknown field (labels is ServiceEntry\'s spelling)', spec: 'selector: { labels: { app: reviews } }', errors: ['spec.selector.labels: unknown field'] },
  { field: 'mtls', bad: 'a string instead of an object', spec: 'mtls: STRICT', errors: ['spec.mtls: must be an object'] },
  { field: 'mtls.mode', bad: 'an unknown mode', spec: 'mtls: { mode: BLAH }', errors: ['spec.mtls.mode: must be one of UNSET, DISABLE, PERMISSIVE, STRICT (got "BLAH")'] },
  { field: 'mtls.mode', bad: 'lower case', spec: 'mtls: { mode: strict }', errors: ['spec.mtls.mode: must be one of UNSET, DISABLE, PERMISSIVE, STRICT (got "strict")'] },
  { field: 'portLevelMtls', bad: 'port-level mTLS in a namespace-wide policy', spec: 'portLevelMtls: { "80": { mode: STRICT } }', errors: ['spec.selector: portLevelMtls requires a selector with matchLabels (a namespace-wide or mesh-wide policy cannot set port-level mTLS)'] },
  { field: 'portLevelMtls', bad: 'port-level mTLS with an empty selector', spec: 'selector: {}\nportLevelMtls: { "80": { mode: STRICT } }', errors: ['spec.selector: portLevelMtls requires a selector with matchLabels (a namespace-wide or mesh-wide policy cannot set port-level mTLS)'] },
  { field: 'portLevelMtls', bad: 'an empty map', spec: `${WITH_SELECTOR}\nportLevelMtls: {}`, errors: ['spec.portLevelMtls: must have at least one port (omit the field instead)'] },
  { field: 'portLevelMtls', bad: 'a port name instead of a number', spec: `${WITH_SELECTOR}\nportLevelMtls: { http: { mode: STRICT } }`, errors: ['spec.portLevelMtls.http: port "http" must be a port number 1..65535'] },
  { field: 'portLevelMtls', bad: 'port 0', spec: `${WITH_SELECTOR}\nportLevelMtls: { "0": { mode: STRICT } }`, errors: ['spec.portLevelMtls.0: port 0 must be in range 1..65535'] },
  { field: 'portLevelMtls', bad: 'a port over 65535', spec: `${WITH_SELECTOR}\nportLevelMtls: { "42949672": { mode: STRICT } }`, errors: ['spec.portLevelMtls.42949672: port 42949672 must be in range 1..65535'] },
  { field: 'portLevelMtls.mode', bad: 'an unknown mode', spec: `${WITH_SELECTOR}\nportLevelMtls: { "8080": { mode: ON } }`, errors: ['spec.portLevelMtls.8080.mode: must be one of UNSET, DISABLE, PERMISSIVE, STRICT (got "ON")'] },
  { field: 'spec', bad: 'a snake_case field', spec: 'port_level_mtls: { "80": { mode: STRICT } }', errors: ['spec.port_level_mtls: unknown field'] },
]);

acceptTable('PeerAuthentication', [
  { field: 'selector', good: 'an empty selector', spec: 'selector: {}' },
  { field: 'portLevelMtls', good: 'a port key written as a YAML number', spec: `${WITH_SELECTOR}\nportLevelMtls: { 8080: { mode: DISABLE } }` },
  { field: 'mtls.mode', good: 'UNSET (inherit from the parent policy)', spec: 'mtls: { mode: UNSET }' },
]);

// An ALLOW policy with one rule (YAML, without the leading `- `).
const apRule = (rule: string) => `rules:\n- ${rule.trim().split('\n').join('\n  ')}`;
const apSource = (source: string) => apRule(`from: [{ source: ${source} }]`);
const apOperation = (operation: string) => apRule(`to: [{ operation: ${operation} }]`);
const apWhen = (condition: string) => apRule(`when: [${condition}]`);
const R0 = 'spec.rules[0]';
const SRC = `${R0}.from[0].source`;
const OP = `${R0}.to[0].operation`;
const CUSTOM = 'action: CUSTOM\nprovider: { name: ext-authz }';

rejectTable('AuthorizationPolicy', [
  // selector, targetRef, targetRefs
  { field: 'selector.matchLabels', bad: 'a wildcard key', spec: 'selector: { matchLabels: { "app*": reviews } }', errors: ['spec.selector.matchLabels["app*"]: invalid label key "app*"'] },
  { field: 'selector', bad: 'a selector together with targetRefs', spec: 'selector: { matchLabels: { app: reviews } }\ntargetRefs: [{ kind: Service, group: "", name: reviews }]', errors: ['spec: only one of selector, targetRef, targetRefs may be set (found selector and targetRefs)'] },
  { field: 'targetRef.name', bad: 'a missing name', spec: 'targetRef: { kind: Gateway, group: gateway.networking.k8s.io }', errors: ['spec.targetRef.name: is required'] },
  { field: 'targetRef.kind', bad: 'a missing kind', spec: 'targetRef: { name: reviews }', errors: ['spec.targetRef.kind: is required'] },
  { field: 'targetRef.kind', bad: 'an invalid kind name', spec: 'targetRef: { kind: Serv_ice, group: "", name: reviews }', errors: ['spec.targetRef.kind: "Serv_ice" is not a valid kind name'] },
  { field: 'targetRef.kind', bad: 'a kind a policy cannot target', spec: 'targetRef: { kind: Deployment, group: apps, name: reviews }', errors: ['spec.targetRef: cannot target apps/Deployment; a policy can target Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway, gateway.networking.k8s.io/GatewayClass'] },
  { field: 'targetRef.group', bad: 'an invalid group', spec: 'targetRef: { kind: Service, group: "__", name: reviews }', errors: ['spec.targetRef.group: "__" is not a valid API group (a DNS subdomain, or "" for the core group)', 'spec.targetRef: cannot target __/Service; a policy can target Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway, gateway.networking.k8s.io/GatewayClass'] },
  { field: 'targetRef.namespace', bad: 'another namespace', spec: 'targetRef: { kind: Service, group: "", name: reviews, namespace: other }', errors: ['spec.targetRef.namespace: must not be set: a policy can only target resources in its own namespace'] },
  { field: 'targetRefs', bad: 'more than 16 targets', spec: `targetRefs: [${Array.from({ length: 17 }, (_, i) => `{ kind: Service, group: "", name: s${i} }`).join(', ')}]`, errors: ['spec.targetRefs: must have at most 16 items'] },
  { field: 'targetRefs.name', bad: 'an empty name', spec: 'targetRefs: [{ kind: Service, group: "", name: "" }]', errors: ['spec.targetRefs[0].name: must not be empty'] },
  // action, provider
  { field: 'action', bad: 'an unknown action', spec: 'action: REJECT', errors: ['spec.action: must be one of ALLOW, DENY, AUDIT, CUSTOM (got "REJECT")'] },
  { field: 'action', bad: 'a DENY policy without rules', spec: 'action: DENY', errors: ['spec.rules: a DENY policy without rules never applies; add an empty rule {} to apply it to every request'] },
  { field: 'action', bad: 'a DENY policy with an empty rule list', spec: 'action: DENY\nrules: []', errors: ['spec.rules: a DENY policy without rules never applies; add an empty rule {} to apply it to every request'] },
  { field: 'action', bad: 'a CUSTOM policy without rules', spec: CUSTOM, errors: ['spec.rules: a CUSTOM policy without rules never applies; add an empty rule {} to apply it to every request'] },
  { field: 'provider', bad: 'a provider on an ALLOW policy', spec: 'provider: { name: ext-authz }\nrules: [{}]', errors: ['spec.provider: can only be set with action CUSTOM (action is ALLOW)'] },
  { field: 'provider.name', bad: 'a CUSTOM policy without a provider', spec: 'action: CUSTOM\nrules: [{}]', errors: ['spec.provider.name: is required with action CUSTOM (the name of an extension provider in the mesh config)'] },
  { field: 'provider.name', bad: 'an empty provider name', spec: 'action: CUSTOM\nprovider: { name: "" }\nrules: [{}]', errors: ['spec.provider.name: is required with action CUSTOM (the name of an extension provider in the mesh config)'] },
  { field: 'provider', bad: 'an unknown field', spec: 'action: CUSTOM\nprovider: { name: x, service: y }\nrules: [{}]', errors: ['spec.provider.service: unknown field'] },
  { field: 'rules (CUSTOM)', bad: 'a peer identity in a CUSTOM rule', spec: `${CUSTOM}\n${apSource('{ principals: [a] }')}`, errors: [`${SRC}.principals: is not supported with action CUSTOM`] },
  { field: 'rules (CUSTOM)', bad: 'a JWT condition in a CUSTOM rule', spec: `${CUSTOM}\n${apWhen('{ key: "request.auth.claims[group]", values: [admin] }')}`, errors: [`${R0}.when[0].key: condition key request.auth.claims[group] is not supported with action CUSTOM`] },
  // rules
  { field: 'rules', bad: 'a single rule instead of a list', spec: 'rules: { from: [] }', errors: ['spec.rules: must be an array of objects'] },
  { field: 'rules.from', bad: 'an empty list', spec: apRule('from: []'), errors: [`${R0}.from: must not be empty`] },
  { field: 'rules.from.source', bad: 'a from entry without source', spec: apRule('from: [{}]'), errors: [`${R0}.from[0].source: is required`] },
  { field: 'rules.from.source', bad: 'an empty source', spec: apSource('{}'), errors: [`${SRC}: must set at least one field (omit the source to match any)`] },
  { field: 'rules.from.source', bad: 'service accounts with namespaces', spec: apSource('{ serviceAccounts: [bar/sa], namespaces: [bar] }'), errors: [`${SRC}: serviceAccounts cannot be combined with namespaces (use separate from entries)`] },
  { field: 'rules.from.source.principals', bad: 'an empty principal', spec: apSource('{ principals: [""] }'), errors: [`${SRC}.principals[0]: must not be empty`] },
  { field: 'rules.from.source.principals', bad: 'a wildcard in the middle', spec: apSource('{ principals: ["cluster.local/ns/*/sa/reviews"] }'), errors: [`${SRC}.principals[0]: "cluster.local/ns/*/sa/reviews": a wildcard "*" is only allowed at the start or end of a value, or alone`] },
  { field: 'rules.from.source.notPrincipals', bad: 'two wildcards', spec: apSource('{ notPrincipals: ["*admin*"] }'), errors: [`${SRC}.notPrincipals[0]: "*admin*": at most one wildcard "*" is allowed (as a prefix, a suffix, or alone)`] },
  { field: 'rules.from.source.requestPrincipals', bad: 'a wildcard in the middle', spec: apSource('{ requestPrincipals: ["https://*.example.com/sub"] }'), errors: [`${SRC}.requestPrincipals[0]: "https://*.example.com/sub": a wildcard "*" is only allowed at the start or end of a value, or alone`] },
  { field: 'rules.from.source.notRequestPrincipals', bad: 'an empty value', spec: apSource('{ notRequestPrincipals: [""] }'), errors: [`${SRC}.notRequestPrincipals[0]: must not be empty`] },
  { field: 'rules.from.source.namespaces', bad: 'a string instead of a list', spec: apSource('{ namespaces: foo }'), errors: [`${SRC}.namespaces: must be an array of strings`] },
  { field: 'rules.from.source.notNamespaces', bad: 'a wildcard in the middle', spec: apSource('{ notNamespaces: ["team-*-prod"] }'), errors: [`${SRC}.notNamespaces[0]: "team-*-prod": a wildcard "*" is only allowed at the start or end of a value, or alone`] },
  { field: 'rules.from.source.serviceAccounts', bad: 'a wildcard', spec: apSource('{ serviceAccounts: ["ns/*"] }'), errors: [`${SRC}.serviceAccounts[0]: "ns/*": wildcards are not allowed in service accounts`] },
  { field: 'rules.from.source.serviceAccounts', bad: 'too many slashes', spec: apSource('{ serviceAccounts: [a/b/c] }'), errors: [`${SRC}.serviceAccounts[0]: "a/b/c" must be "serviceAccount" or "namespace/serviceAccount"`] },
  { field: 'rules.from.source.serviceAccounts', bad: 'more than 16', spec: apSource(`{ serviceAccounts: [${Array.from({ length: 17 }, (_, i) => `sa${i}`).join(', ')}] }`), errors: [`${SRC}.serviceAccounts: must have at most 16 items`] },
  { field: 'rules.from.source.notServiceAccounts', bad: 'an empty namespace', spec: apSource('{ notServiceAccounts: [/sa] }'), errors: [`${SRC}.notServiceAccounts[0]: "/sa" must be "serviceAccount" or "namespace/serviceAccount" (empty namespace)`] },
  { field: 'rules.from.source.ipBlocks', bad: 'an invalid address', spec: apSource('{ ipBlocks: [1.2.3.256] }'), errors: [`${SRC}.ipBlocks[0]: "1.2.3.256" is not a valid IP address or CIDR block`] },
  { field: 'rules.from.source.notIpBlocks', bad: 'a prefix length over 32', spec: apSource('{ notIpBlocks: [10.0.0.0/33] }'), errors: [`${SRC}.notIpBlocks[0]: "10.0.0.0/33" is not a valid IP address or CIDR block`] },
  { field: 'rules.from.source.remoteIpBlocks', bad: 'a host name', spec: apSource('{ remoteIpBlocks: [example.com] }'), errors: [`${SRC}.remoteIpBlocks[0]: "example.com" is not a valid IP address or CIDR block`] },
  { field: 'rules.from.source.notRemoteIpBlocks', bad: 'an empty value', spec: apSource('{ notRemoteIpBlocks: [""] }'), errors: [`${SRC}.notRemoteIpBlocks[0]: must not be empty`] },
  { field: 'rules.from.source.trustDomains', bad: 'a "/"', spec: apSource('{ trustDomains: [cluster.local/ns] }'), errors: [`${SRC}.trustDomains[0]: "cluster.local/ns": a trust domain cannot contain "/"`] },
  { field: 'rules.from.source.notTrustDomains', bad: 'a wildcard in the middle', spec: apSource('{ notTrustDomains: ["a*b"] }'), errors: [`${SRC}.notTrustDomains[0]: "a*b": a wildcard "*" is only allowed at the start or end of a value, or alone`] },
  { field: 'rules.from.source', bad: 'an unknown field', spec: apSource('{ ips: [1.2.3.4] }'), errors: [`${SRC}.ips: unknown field`] },
  // rules.to
  { field: 'rules.to', bad: 'an empty list', spec: apRule('to: []'), errors: [`${R0}.to: must not be empty`] },
  { field: 'rules.to.operation', bad: 'a to entry without operation', spec: apRule('to: [{}]'), errors: [`${R0}.to[0].operation: is required`] },
  { field: 'rules.to.operation', bad: 'an empty operation', spec: apOperation('{}'), errors: [`${OP}: must set at least one field (omit the operation to match any)`] },
  { field: 'rules.to.operation.hosts', bad: 'a wildcard in the middle', spec: apOperation('{ hosts: ["api.*.example.com"] }'), errors: [`${OP}.hosts[0]: "api.*.example.com": a wildcard "*" is only allowed at the start or end of a value, or alone`] },
  { field: 'rules.to.operation.notHosts', bad: 'an empty host', spec: apOperation('{ notHosts: [""] }'), errors: [`${OP}.notHosts[0]: must not be empty`] },
  { field: 'rules.to.operation.ports', bad: 'a port name', spec: apOperation('{ ports: [http] }'), errors: [`${OP}.ports[0]: "http" is not a port number`] },
  { field: 'rules.to.operation.ports', bad: 'a port over 65535', spec: apOperation('{ ports: ["70000"] }'), errors: [`${OP}.ports[0]: port 70000 must be in range 1..65535`] },
  { field: 'rules.to.operation.ports', bad: 'a number instead of a string', spec: apOperation('{ ports: [8080] }'), errors: [`${OP}.ports[0]: must be a string`] },
  { field: 'rules.to.operation.notPorts', bad: 'port 0', spec: apOperation('{ notPorts: ["0"] }'), errors: [`${OP}.notPorts[0]: port 0 must be in range 1..65535`] },
  { field: 'rules.to.operation.methods', bad: 'an empty method', spec: apOperation('{ methods: [""] }'), errors: [`${OP}.methods[0]: must not be empty`] },
  { field: 'rules.to.operation.notMethods', bad: 'a wildcard in the middle', spec: apOperation('{ notMethods: ["P*T"] }'), errors: [`${OP}.notMethods[0]: "P*T": a wildcard "*" is only allowed at the start or end of a value, or alone`] },
  { field: 'rules.to.operation.paths', bad: 'a glob in the middle (use {*})', spec: apOperation('{ paths: ["/api/*/reviews"] }'), errors: [`${OP}.paths[0]: "/api/*/reviews": a wildcard "*" is only allowed at the start or end of a value, or alone`] },
  { field: 'rules.to.operation.paths', bad: '{**} before another template', spec: apOperation('{ paths: ["/{**}/a/{*}"] }'), errors: [`${OP}.paths[0]: "/{**}/a/{*}": {**} must be the last template operator in a path`] },
  { field: 'rules.to.operation.paths', bad: 'a brace that is no template', spec: apOperation('{ paths: ["/users/{id}"] }'), errors: [`${OP}.paths[0]: "/users/{id}": "{" and "}" are only allowed in the whole-segment templates {*} and {**}`] },
  { field: 'rules.to.operation.paths', bad: 'a template with a "*" in a literal segment', spec: apOperation('{ paths: ["/{*}/a*"] }'), errors: [`${OP}.paths[0]: "/{*}/a*": segment "a*" is not a valid path segment for a path template`] },
  { field: 'rules.to.operation.notPaths', bad: 'an empty path', spec: apOperation('{ notPaths: [""] }'), errors: [`${OP}.notPaths[0]: must not be empty`] },
  // rules.when
  { field: 'rules.when.key', bad: 'a missing key', spec: apWhen('{ values: [a] }'), errors: [`${R0}.when[0].key: is required`] },
  { field: 'rules.when.key', bad: 'an unknown key', spec: apWhen('{ key: source.name, values: [a] }'), errors: [`${R0}.when[0].key: unknown condition key "source.name"; expected one of source.ip, remote.ip, source.namespace, source.serviceAccount, source.principal, source.trustDomain, request.auth.principal, request.auth.audiences, request.auth.presenter, destination.ip, destination.port, connection.sni, request.headers[<name>], request.auth.claims[<name>], experimental.envoy.filters.*[<name>]`] },
  { field: 'rules.when.key', bad: 'a header key without brackets', spec: apWhen('{ key: request.headers, values: [a] }'), errors: [`${R0}.when[0].key: "request.headers" must name an entry in brackets, e.g. request.headers[name]`] },
  { field: 'rules.when.key', bad: 'a claim key with empty brackets', spec: apWhen('{ key: "request.auth.claims[]", values: [a] }'), errors: [`${R0}.when[0].key: "request.auth.claims[]" must name an entry in brackets, e.g. request.auth.claims[name]`] },
  { field: 'rules.when.key', bad: 'destination.labels (use the selector)', spec: apWhen('{ key: "destination.labels[app]", values: [a] }'), errors: [`${R0}.when[0].key: "destination.labels[app]" is not supported: use the policy's selector to choose workloads`] },
  { field: 'rules.when', bad: 'a condition without values', spec: apWhen('{ key: source.ip }'), errors: [`${R0}.when[0]: at least one of values or notValues is required (key source.ip)`] },
  { field: 'rules.when.values', bad: 'an empty value', spec: apWhen('{ key: request.auth.presenter, values: [""] }'), errors: [`${R0}.when[0].values[0]: must not be empty`] },
  { field: 'rules.when.values', bad: 'a bad IP for source.ip', spec: apWhen('{ key: source.ip, values: [10.0.0.300] }'), errors: [`${R0}.when[0].values[0]: "10.0.0.300" is not a valid IP address or CIDR block`] },
  { field: 'rules.when.values', bad: 'a port name for destination.port', spec: apWhen('{ key: destination.port, values: [http] }'), errors: [`${R0}.when[0].values[0]: "http" is not a port number`] },
  { field: 'rules.when.notValues', bad: 'a bad CIDR for remote.ip', spec: apWhen('{ key: remote.ip, notValues: [10.0.0.0/40] }'), errors: [`${R0}.when[0].notValues[0]: "10.0.0.0/40" is not a valid IP address or CIDR block`] },
  { field: 'rules.when.notValues', bad: 'a wildcard service account', spec: apWhen('{ key: source.serviceAccount, notValues: ["*"] }'), errors: [`${R0}.when[0].notValues[0]: "*": wildcards are not allowed in service accounts`] },
]);

acceptTable('AuthorizationPolicy', [
  { field: 'spec', good: 'an empty spec (allow nothing)', spec: '{}' },
  { field: 'rules', good: 'an empty rule (matches every request)', spec: 'rules: [{}]' },
  { field: 'rules.when', good: 'an empty condition list (Istio does not check)', spec: 'rules: [{ when: [] }]' },
  { field: 'action', good: 'AUDIT without rules', spec: 'action: AUDIT' },
  { field: 'rules.from.source.principals', good: 'prefix, suffix and presence wildcards', spec: apSource('{ principals: ["cluster.local/ns/default/*", "*/sa/reviews", "*"] }') },
  { field: 'rules.to.operation.paths', good: 'templates and wildcards', spec: apOperation('{ paths: ["/api/{*}/reviews", "/static/{**}", "/admin*", "*.png"] }') },
  { field: 'rules.when.key', good: 'nested claims', spec: apWhen('{ key: "request.auth.claims[nested1][nested2]", values: [x] }') },
  { field: 'rules.when.key', good: 'an experimental Envoy filter key', spec: apWhen('{ key: "experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["[update]"] }') },
  { field: 'targetRef', good: 'a Gateway API gateway', spec: 'targetRef: { kind: Gateway, group: gateway.networking.k8s.io, name: ingress }' },
  { field: 'rules (CUSTOM)', good: 'paths and IP blocks in a CUSTOM rule', spec: `${CUSTOM}\n${apRule('from: [{ source: { ipBlocks: [10.0.0.0/8] } }]\nto: [{ operation: { paths: [/admin] } }]')}` },
]);

const jwt = (fields: string) => `jwtRules:\n- issuer: https://issuer.example.com\n  ${fields.trim().split('\n').join('\n  ')}`;
const J0 = 'spec.jwtRules[0]';

rejectTable('RequestAuthentication', [
  { field: 'selector', bad: 'a selector together with targetRef', spec: 'selector: { matchLabels: { a: b } }\ntargetRef: { kind: Service, group: "", name: foo }', errors: ['spec: only one of selector, targetRef, targetRefs may be set (found selector and targetRef)'] },
  { field: 'targetRef.namespace', bad: 'another namespace', spec: 'targetRef: { kind: Service, group: "", name: foo, namespace: bar }', errors: ['spec.targetRef.namespace: must not be set: a policy can only target resources in its own namespace'] },
  { field: 'targetRefs.kind', bad: 'a kind a policy cannot target', spec: 'targetRefs: [{ kind: Pod, group: "", name: foo }]', errors: ['spec.targetRefs[0]: cannot target Pod; a policy can target Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway, gateway.networking.k8s.io/GatewayClass'] },
  { field: 'jwtRules', bad: 'a null rule', spec: 'jwtRules:\n-', errors: ['spec.jwtRules[0]: must be an object'] },
  { field: 'jwtRules.issuer', bad: 'a missing issuer', spec: 'jwtRules: [{ jwksUri: "https://example.com/jwks.json" }]', errors: [`${J0}.issuer: is required`] },
  { field: 'jwtRules.issuer', bad: 'an empty issuer', spec: 'jwtRules: [{ issuer: "" }]', errors: [`${J0}.issuer: must not be empty`] },
  { field: 'jwtRules.audiences', bad: 'an empty audience', spec: jwt('audiences: [""]'), errors: [`${J0}.audiences[0]: must not be empty`] },
  { field: 'jwtRules.jwksUri', bad: 'a URL with another scheme', spec: jwt('jwksUri: ftp://example.com/jwks.json'), errors: [`${J0}.jwksUri: "ftp://example.com/jwks.json": the URL scheme must be http or https`] },
  { field: 'jwtRules.jwksUri', bad: 'something that is not a URL', spec: jwt('jwksUri: "hTPp\\\\blah"'), errors: [`${J0}.jwksUri: "hTPp\\blah" is not a valid URL`] },
  { field: 'jwtRules.jwksUri', bad: 'an empty URI', spec: jwt('jwksUri: ""'), errors: [`${J0}.jwksUri: must not be empty`] },
  { field: 'jwtRules.jwks_uri', bad: 'a mailto: URL', spec: jwt('jwks_uri: "mailto:keys@example.com"'), errors: [`${J0}.jwks_uri: "mailto:keys@example.com": the URL scheme must be http or https`] },
  { field: 'jwtRules.jwks_uri', bad: 'both spellings of the URI', spec: jwt('jwksUri: https://a.example.com/k\njwks_uri: https://b.example.com/k'), errors: [`${J0}: only one of jwksUri, jwks_uri, jwks may be set (found jwksUri and jwks_uri)`] },
  { field: 'jwtRules.jwks', bad: 'a key set and a URI', spec: jwt('jwksUri: https://a.example.com/k\njwks: \'{"keys":[{"kty":"RSA","e":"AQAB","n":"x"}]}\''), errors: [`${J0}: only one of jwksUri, jwks_uri, jwks may be set (found jwksUri and jwks)`] },
  { field: 'jwtRules.jwks', bad: 'text that is not JSON', spec: jwt('jwks: "not json"'), errors: [`${J0}.jwks: is not valid JSON: Unexpected token 'o', "not json" is not valid JSON`] },
  { field: 'jwtRules.jwks', bad: 'a key without a type', spec: jwt('jwks: \'{"keys":[{"e":"AQAB"}]}\''), errors: [`${J0}.jwks: key 0 of the JSON Web Key Set has no "kty" (key type)`] },
  { field: 'jwtRules.fromHeaders.name', bad: 'a missing name', spec: jwt('fromHeaders: [{ prefix: "Bearer " }]'), errors: [`${J0}.fromHeaders[0].name: is required`] },
  { field: 'jwtRules.fromHeaders.name', bad: 'an empty name', spec: jwt('fromHeaders: [{ name: "" }]'), errors: [`${J0}.fromHeaders[0].name: must not be empty`] },
  { field: 'jwtRules.fromHeaders.prefix', bad: 'a number', spec: jwt('fromHeaders: [{ name: x-token, prefix: 1 }]'), errors: [`${J0}.fromHeaders[0].prefix: must be a string`] },
  { field: 'jwtRules.fromParams', bad: 'an empty parameter name', spec: jwt('fromParams: [""]'), errors: [`${J0}.fromParams[0]: must not be empty`] },
  { field: 'jwtRules.fromCookies', bad: 'an empty cookie name', spec: jwt('fromCookies: [""]'), errors: [`${J0}.fromCookies[0]: must not be empty`] },
  { field: 'jwtRules.outputPayloadToHeader', bad: 'an invalid header name', spec: jwt('outputPayloadToHeader: "x jwt"'), errors: [`${J0}.outputPayloadToHeader: "x jwt" is not a valid header name (letters, digits, "-" and "_")`] },
  { field: 'jwtRules.forwardOriginalToken', bad: 'a string', spec: jwt('forwardOriginalToken: "yes"'), errors: [`${J0}.forwardOriginalToken: must be a boolean (true or false)`] },
  { field: 'jwtRules.outputClaimToHeaders.header', bad: 'a pseudo-header', spec: jwt('outputClaimToHeaders: [{ header: ":authority", claim: x }]'), errors: [`${J0}.outputClaimToHeaders[0].header: ":authority" is not a valid header name (letters, digits, "-" and "_")`] },
  { field: 'jwtRules.outputClaimToHeaders.header', bad: 'a missing header', spec: jwt('outputClaimToHeaders: [{ claim: x }]'), errors: [`${J0}.outputClaimToHeaders[0].header: is required`] },
  { field: 'jwtRules.outputClaimToHeaders.claim', bad: 'an empty claim', spec: jwt('outputClaimToHeaders: [{ header: x-sub, claim: "" }]'), errors: [`${J0}.outputClaimToHeaders[0].claim: must not be empty`] },
  { field: 'jwtRules.outputClaimToHeaders', bad: 'a null entry', spec: jwt('outputClaimToHeaders: [~]'), errors: [`${J0}.outputClaimToHeaders[0]: must be an object`] },
  { field: 'jwtRules.timeout', bad: 'a word', spec: jwt('timeout: apple'), errors: [`${J0}.timeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "apple")`] },
  { field: 'jwtRules.timeout', bad: 'less than 1ms', spec: jwt('timeout: 500us'), errors: [`${J0}.timeout: must be at least 1ms`] },
  { field: 'jwtRules.spaceDelimitedClaims', bad: 'an empty claim', spec: jwt('spaceDelimitedClaims: [""]'), errors: [`${J0}.spaceDelimitedClaims[0]: must not be empty`] },
  { field: 'jwtRules.presence', bad: 'an unknown value', spec: jwt('presence: MANDATORY'), errors: [`${J0}.presence: must be one of OPTIONAL, REQUIRED (got "MANDATORY")`] },
  { field: 'jwtRules', bad: 'an unknown field', spec: jwt('jwksURL: https://a.example.com/k'), errors: [`${J0}.jwksURL: unknown field`] },
]);

acceptTable('RequestAuthentication', [
  { field: 'jwtRules', good: 'two rules with the same issuer (Istio does not check)', spec: 'jwtRules:\n- issuer: a\n  audiences: [x]\n- issuer: a\n  audiences: [y]' },
  { field: 'jwtRules.jwks_uri', good: 'Istio\'s snake_case spelling of jwksUri', spec: jwt('jwks_uri: https://a.example.com/k') },
  { field: 'jwtRules.jwks', good: 'a single key rather than a set', spec: jwt('jwks: \'{"kty":"EC","crv":"P-256","x":"a","y":"b"}\'') },
  { field: 'jwtRules.jwksUri', good: 'a plain http URL with a port', spec: jwt('jwksUri: http://jwt-server.istio-system.svc.cluster.local:8000/jwks') },
]);
