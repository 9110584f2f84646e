// Which AuthorizationPolicies and RequestAuthentications apply to a workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policiesFor } from '../../../../src/control-plane/generate/security/index.ts';
import { authorizationPolicy, filtersFor, workload } from './fixtures.ts';

const root = 'istio-system';
const p = (name: string, namespace: string, matchLabels?: Record<string, string>) =>
  authorizationPolicy(name, namespace, matchLabels ? { selector: { matchLabels } } : {});

const rows: { name: string; policy: ReturnType<typeof p>; applies: boolean }[] = [
  { name: 'a root-namespace policy without selector applies to every workload', policy: p('mesh', root), applies: true },
  { name: 'a root-namespace policy with a matching selector applies in every namespace', policy: p('mesh-sel', root, { app: 'httpbin' }), applies: true },
  { name: 'a root-namespace policy with a selector that does not match does not apply', policy: p('mesh-other', root, { app: 'other' }), applies: false },
  { name: 'a policy without selector applies to the workloads of its namespace', policy: p('ns', 'foo'), applies: true },
  { name: 'a policy whose selector labels are all on the workload applies', policy: p('sel', 'foo', { app: 'httpbin', version: 'v1' }), applies: true },
  { name: 'a policy with an empty selector applies to the whole namespace', policy: authorizationPolicy('empty-sel', 'foo', { selector: {} }), applies: true },
  { name: 'a policy with one selector label the workload lacks does not apply', policy: p('sel-miss', 'foo', { app: 'httpbin', version: 'v2' }), applies: false },
  { name: 'a policy in another namespace does not apply', policy: p('other-ns', 'bar'), applies: false },
  { name: 'a policy in another namespace does not apply even when its selector matches', policy: p('other-ns-sel', 'bar', { app: 'httpbin' }), applies: false },
  { name: 'a policy with targetRefs does not apply to a sidecar', policy: authorizationPolicy('gw', 'foo', { targetRefs: [{ kind: 'Gateway', name: 'gw' }] }), applies: false },
];

for (const row of rows) {
  test(`policy selection: ${row.name}`, () => {
    assert.deepEqual(policiesFor([row.policy], root, workload).map((x) => x.metadata.name), row.applies ? [row.policy.metadata.name] : []);
  });
}

test('policy selection: root-namespace policies come first', () => {
  assert.deepEqual(policiesFor([p('ns', 'foo'), p('mesh', root)], root, workload).map((x) => x.metadata.name), ['mesh', 'ns']);
});

test('a policy with targetRef is reported as not applicable to this workload', () => {
  const { http, warnings } = filtersFor({ authorizationPolicies: [authorizationPolicy('gw', 'foo', { targetRef: { kind: 'Gateway', name: 'gw' }, rules: [{}] })] });
  assert.deepEqual(http, []);
  assert.match(warnings.join('\n'), /AuthorizationPolicy foo\/gw: targetRef applies to Kubernetes gateways only/);
});

test('only the policies selecting the workload become its filters', () => {
  const { http } = filtersFor({
    authorizationPolicies: [p('mine', 'foo', { app: 'httpbin' }), p('theirs', 'foo', { app: 'reviews' }), p('elsewhere', 'bar')],
  });
  assert.deepEqual(Object.keys((http[0].typed_config as any).rules.policies), ['ns[foo]-policy[mine]-rule[0]']);
});
