// Istio's own Grafana dashboards (unmodified, from ../shared/compat/istio/dashboards/) on a running
// Weft mesh: every PromQL expression of their panels and variables runs against a real Prometheus
// scraping the mesh, and every istio_*, pilot_*, galley_* and citadel_* series an expression reads
// exists with every label it filters or groups by. container_* (the kubelet's cAdvisor) and go_* (the
// Go runtime of istiod) are not the mesh's series; docs/observability.md names the Node.js process
// metrics that take their place. WEFT_SHOW_EMPTY=1 lists the expressions that returned no data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { httpCall, requests } from '../traffic/scenario.ts';
import { createConnection } from 'node:net';
import { dashboardQueries, dashboardsMissing, substitute, type DashboardQuery } from './dashboards.ts';
import { readExpression, type Alternative, type Selector } from './promql.ts';
import { controlPlaneJob, prometheusMissing, proxiesJob } from './prometheus.ts';
import { startObservedMesh, type ObservedMesh } from './observed-mesh.ts';

const skip = prometheusMissing || dashboardsMissing;

/** Series families the mesh must serve: the proxies' istio_* and the control plane's pilot_*, galley_*, citadel_*. */
const required = ['istio_', 'pilot_', 'galley_', 'citadel_'];
/** Series that are not the mesh's, with the reason (docs/observability.md says the same). */
const excluded: Record<string, string> = {
  container_: 'cAdvisor (the kubelet) measures containers; Weft runs no containers of its own',
  go_: "the Go runtime's metrics of istiod; the control plane is a Node.js process (see process_* and nodejs_*)",
};
/**
 * Series the dashboards read that are neither required nor excluded: process_* (the process
 * collector of any Prometheus client, also Node's), envoy_* (Envoy's own stats) and
 * sidecar_injection_* (Istio's Kubernetes injection webhook). Their state is reported, not enforced.
 */
const reported = ['process_', 'envoy_', 'sidecar_injection_'];

const family = (metric: string, prefixes: string[]) => prefixes.find((p) => metric.startsWith(p));

const badWeight = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings-invalid }
spec:
  hosts: [ratings]
  http: [{ route: [{ destination: { host: ratings }, weight: 150 }] }]
`;
const ungreedy = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - match: [{ uri: { regex: "(?U)/ratings/.+" } }]
    route: [{ destination: { host: ratings } }]
`;

let m: ObservedMesh;
let values: Record<string, string>;

before(async () => {
  if (skip) return;
  m = await startObservedMesh();
  const reviews = (path: string) => httpCall(m.productpage.outboundPort, path, { host: 'reviews:9080' });
  await waitFor('reviews answering through the sidecars', async () => (await reviews('/warmup')).status === 200);
  // Traffic for every panel: HTTP to two services, a few 5xx, and TCP.
  await requests(30, 4, () => reviews('/reviews/0'));
  await requests(10, 2, () => httpCall(m.productpage.outboundPort, '/ratings/0', { host: 'ratings:9080' }));
  await m.ratings.control({ failStatus: 500 });
  await requests(5, 1, () => httpCall(m.productpage.outboundPort, '/ratings/1', { host: 'ratings:9080' }));
  await m.ratings.control({ failStatus: 0 });
  await tcpExchange(m.productpage.tcpPort(27017));
  // The events the control-plane panels count. A resource that fails validation (galley_validation_failed):
  const invalid = await m.scenario.mesh.weft(['apply', '-f', '-'], badWeight);
  assert.notEqual(invalid.code, 0, 'the control plane rejects a weight of 150');
  // A config the control plane accepts and the sidecars refuse (pilot_total_xds_rejects): RE2's
  // ungreedy flag has no JavaScript equivalent. The sidecars keep their previous routes.
  await m.scenario.mesh.apply(ungreedy);
  await waitFor('a NACK in proxy-status', async () => /NACKED/.test((await m.scenario.mesh.weft(['proxy-status'])).stdout));
  await m.prometheus.waitForTargetsUp(proxiesJob);
  await m.prometheus.waitForScrapesAfter(proxiesJob);
  // The control plane's target may be down (no /metrics): the pilot_* checks then name what is missing.
  await m.prometheus.waitForScrapesAfter(controlPlaneJob).catch(() => undefined);
  const workload = m.reviews[0].proxy.name.replace(/^proxy /, '');
  // What a user selects in Grafana: namespace default, a reviews workload, the reviews service, both
  // reporters, every source and destination ("All").
  values = {
    __rate_interval: '1m', __interval: '15s', __range: '5m', interval: '15s', datasource: 'prometheus',
    namespace: 'default', workload, service: 'reviews.default.svc.cluster.local', qrep: '(source|destination)',
    srcns: '.*', srcwl: '.*', srccluster: '.*', dstns: '.*', dstwl: '.*', dstcluster: '.*', dstsvc: '.*',
  };
});
after(async () => {
  await m?.stop();
  assertNoLeakedProcesses();
});

function tcpExchange(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { text += d; if (text.includes('hello')) socket.end(); });
    socket.once('connect', () => socket.write('hello\n'));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

/** Cached presence checks against Prometheus: a series name, and a label on it with a non-empty value. */
const seen = new Map<string, Promise<boolean>>();
function present(promql: string): Promise<boolean> {
  let p = seen.get(promql);
  if (!p) {
    p = m.prometheus.vector(`count(${promql})`).then((v) => v.length > 0 && Number(v[0].value[1]) > 0);
    seen.set(promql, p);
  }
  return p;
}

/** What an alternative needs that Prometheus does not have, for the series of the given families. */
async function missingIn(alt: Alternative, families: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of alt.selectors) {
    if (!family(s.metric, families)) continue;
    if (!(await present(s.metric))) { out.push(`series ${s.metric} does not exist`); continue; }
    for (const label of labelsUsed(s, alt)) {
      if (!(await present(`${s.metric}{${label}!=""}`))) out.push(`series ${s.metric} has no label ${label}`);
    }
  }
  return out;
}

function labelsUsed(s: Selector, alt: Alternative): string[] {
  const labels = new Set(s.matchers.map((x) => x.label));
  for (const g of alt.groupings) if (g !== 'le' || s.metric.endsWith('_bucket')) labels.add(g);
  return [...labels];
}

/** An expression works when one of its alternatives that reads series has everything it reads. */
async function problems(q: DashboardQuery, families: string[]): Promise<string[]> {
  const alts = readExpression(substitute(q.expr, values)).filter((a) => a.selectors.length > 0);
  const found: string[][] = [];
  for (const alt of alts) {
    const missing = await missingIn(alt, families);
    if (missing.length === 0) return [];
    found.push(missing);
  }
  return found[0] ?? [];
}

const queries = skip ? [] : dashboardQueries();

test('the dashboards hold PromQL to check', { skip }, () => {
  assert.ok(queries.length > 100, `found ${queries.length} expressions`);
  const dashboards = new Set(queries.map((q) => q.dashboard));
  assert.equal(dashboards.size, 5, [...dashboards].join(', '));
});

test('every dashboard expression runs on Prometheus', { skip }, async (t) => {
  const failed: string[] = [];
  let empty = 0;
  for (const q of queries) {
    try {
      const r = await m.prometheus.query(substitute(q.expr, values));
      if (Array.isArray(r.result) && r.result.length === 0) {
        empty++;
        if (process.env.WEFT_SHOW_EMPTY) t.diagnostic(`no data: ${q.dashboard} ${q.where}: ${q.expr.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
    } catch (err) {
      failed.push(`${q.dashboard} ${q.where}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failed, []);
  t.diagnostic(`${empty} of ${queries.length} expressions returned no data`);
});

for (const dashboard of skip ? [] : [...new Set(queries.map((q) => q.dashboard))]) {
  test(`${dashboard}: every istio_*, pilot_*, galley_* and citadel_* series it queries exists with the labels it uses`, { skip }, async () => {
    // Grouped by what is missing, each with the expressions that need it (the first one in full).
    const byGap = new Map<string, DashboardQuery[]>();
    for (const q of queries.filter((x) => x.dashboard === dashboard)) {
      for (const gap of await problems(q, required)) byGap.set(gap, [...(byGap.get(gap) ?? []), q]);
    }
    const report = [...byGap].map(([gap, qs]) =>
      `${gap}: needed by ${qs.length} expression(s): ${[...new Set(qs.map((q) => q.where))].join(', ')}\n    e.g. ${qs[0].expr.replace(/\s+/g, ' ')}`);
    assert.equal(report.length, 0, `${dashboard} reads series or labels Weft does not export:\n  ${report.join('\n  ')}`);
  });
}

/**
 * Panels that stay empty on this mesh by construction: all its traffic is mutual TLS, it has no
 * workload named istio-ingressgateway, and (as in Istio, whose client-side stats leave
 * connection_security_policy "unknown") no reporter="source" series says mutual_tls.
 */
function emptyByConstruction(expr: string): boolean {
  if (/connection_security_policy!="mutual_tls"|destination_principal!~"spiffe|istio-ingressgateway/.test(expr)) return true;
  return readExpression(expr).some((a) => a.selectors.some((x) =>
    x.matchers.some((mm) => mm.label === 'reporter' && mm.op === '=' && mm.value === 'source') &&
    x.matchers.some((mm) => mm.label === 'connection_security_policy' && mm.op === '=' && mm.value === 'mutual_tls')));
}

test('every panel over istio_* and pilot_* series shows data for the traffic the mesh carried', { skip }, async () => {
  // Selections as a user would pick them: an HTTP service and a workload serving it; the TCP service
  // and the client workload (whose outgoing panels then fill); the TCP server workload.
  const selections = [
    { ...values },
    { ...values, service: 'mongodb.default.svc.cluster.local', workload: 'productpage-v1' },
    { ...values, service: 'mongodb.default.svc.cluster.local', workload: m.mongodb.proxy.name.replace(/^proxy /, '') },
  ];
  const candidates = queries.filter((q) => {
    if (emptyByConstruction(q.expr)) return false;
    const selectors = readExpression(q.expr).flatMap((a) => a.selectors);
    return selectors.length > 0 && selectors.every((x) => family(x.metric, required));
  });
  assert.ok(candidates.length > 60, `${candidates.length} expressions to check`);
  const shows = async (q: DashboardQuery) => {
    for (const selection of selections) {
      const r = await m.prometheus.query(substitute(q.expr, selection));
      if (Array.isArray(r.result) ? r.result.length > 0 : r.result !== undefined) return true;
    }
    return false;
  };
  let empty: DashboardQuery[] = [];
  // A series created by the last requests needs two scrapes before rate() has a value: retry a while.
  await waitFor('every panel to show data', async () => {
    empty = [];
    for (const q of candidates) if (!(await shows(q))) empty.push(q);
    return empty.length === 0;
  }, 8000, 1000).catch(() => undefined);
  assert.deepEqual(empty.map((q) => `${q.dashboard} ${q.where}: ${q.expr.replace(/\s+/g, ' ')}`), []);
});

test("istiod's process panels find the control plane's process_* series", { skip }, async () => {
  await m.prometheus.waitForTargetsUp(controlPlaneJob);
  const missing: string[] = [];
  for (const q of queries) {
    for (const alt of readExpression(substitute(q.expr, values))) {
      for (const s of alt.selectors) {
        if (!s.metric.startsWith('process_')) continue;
        const selector = `${s.metric}{${s.matchers.map((x) => `${x.label}${x.op}${JSON.stringify(x.value)}`).join(',')}}`;
        if (!(await present(selector))) missing.push(`${q.dashboard} ${q.where}: ${selector}`);
      }
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});

test('series outside the checked families are listed with what Weft does about them', { skip }, async (t) => {
  const lines = new Set<string>();
  for (const q of queries) {
    for (const alt of readExpression(substitute(q.expr, values))) {
      for (const s of alt.selectors) {
        const ex = family(s.metric, Object.keys(excluded));
        if (ex) { lines.add(`${s.metric}: excluded (${excluded[ex]})`); continue; }
        if (family(s.metric, reported)) {
          const gaps = await missingIn({ ...alt, selectors: [s] }, reported);
          lines.add(`${s.metric}: ${gaps.length === 0 ? 'present' : gaps.join('; ')}`);
          continue;
        }
        if (!family(s.metric, required)) assert.fail(`${q.dashboard} ${q.where} reads ${s.metric}, of no family this test knows: decide whether Weft exports it`);
      }
    }
  }
  for (const line of [...lines].sort()) t.diagnostic(line);
});
