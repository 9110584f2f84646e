// examples/observability ships what an operator imports: a Prometheus config that Prometheus accepts
// and Istio's dashboards exactly as Istio publishes them, with Istio's license beside them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../harness/mesh.ts';
import { dashboardsDir, dashboardsMissing } from './dashboards.ts';

const example = join(repoRoot, 'examples/observability');
const promtool = '/usr/bin/promtool';

test('the example Prometheus config passes promtool check config', { skip: existsSync(promtool) ? false : `${promtool} not found` }, async () => {
  const { stdout } = await promisify(execFile)(promtool, ['check', 'config', join(example, 'prometheus.yml')]);
  assert.match(stdout, /SUCCESS/);
});

test("the example dashboards are Istio's, unmodified, with Istio's license", { skip: dashboardsMissing }, () => {
  const ours = readdirSync(join(example, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
  const istio = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(ours, istio);
  for (const f of istio) assert.ok(readFileSync(join(example, 'dashboards', f)).equals(readFileSync(join(dashboardsDir, f))), `${f} differs from Istio's`);
  assert.match(readFileSync(join(example, 'dashboards', 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
});
