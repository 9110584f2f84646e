// MeshConfig.pathNormalization → HttpConnectionManager fields, as Istio sets them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathNormalizationOptions } from '../../../../src/control-plane/generate/security/index.ts';
import { messageProblems } from './envoy-proto-check.ts';

const rows = [
  { mode: undefined, want: { normalize_path: { value: true }, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' } },
  { mode: 'BASE', want: { normalize_path: { value: true }, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' } },
  { mode: 'NONE', want: { normalize_path: { value: false }, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' } },
  { mode: 'MERGE_SLASHES', want: { normalize_path: { value: true }, merge_slashes: true, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' } },
  { mode: 'DECODE_AND_MERGE_SLASHES', want: { normalize_path: { value: true }, merge_slashes: true, path_with_escaped_slashes_action: 'UNESCAPE_AND_FORWARD' } },
] as const;

for (const { mode, want } of rows) {
  test(`path normalization ${mode ?? '(default: BASE)'} sets the connection manager's path options`, () => {
    const got = pathNormalizationOptions(mode);
    assert.deepEqual(got, want);
    assert.deepEqual(messageProblems('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', { stat_prefix: 'in', route_config: { name: 'in' }, ...got }), []);
  });
}
