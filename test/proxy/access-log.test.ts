// Access logs of an http_connection_manager (envoy.access_loggers.file): Istio's default JSON format
// written unchanged, one line per request with Envoy's response flags (UO, FI, UC, NR), text formats,
// and filters that keep only some requests (CEL, status code, response flags).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { toStruct } from '../../src/xds/struct.ts';
import { celFilter, fileAccessLog, jsonLine, linesWhen, tempLogDir } from './access-log-support.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { connect, request } from './support/http2.ts';
import {
  assignment, edsCluster, faultFilter, httpListener, perRouteFault, route, routeConfig, routeTo, routerFilter, virtualHost,
} from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { gate } from './support/wait.ts';

type Obj = Record<string, unknown>;

// Istio's MeshConfig accessLogEncoding JSON default (pilot/pkg/model/telemetry_logging.go).
const istioJsonFormat = {
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
};
// Istio's text default (EnvoyTextLogFormat), a newline at its end.
const istioTextFormat = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% ' +
  '%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

const logs = tempLogDir();
const files = {
  istio: logs.file('istio.json.log'),
  errorsOnly: logs.file('cel-5xx.log'),
  text: logs.file('text.log'),
  flagged: logs.file('flagged.log'),
  debug: logs.file('debug.log'),
};
const harness = new Harness();
let upstream: Upstream;
const slowArrived = gate();
const releaseSlow = gate();

const reviews = 'outbound|9080||reviews.default.svc.cluster.local';
const overflowing = 'outbound|9080||overflowing.default.svc.cluster.local';

before(async () => {
  upstream = await startUpstream('reviews', (req, res) => {
    // /reset: the upstream drops the connection before any response (UC).
    if (req.url === '/reset') {
      req.socket.destroy();
      return;
    }
    // /slow: answers only once the test says so (after its client went away).
    if (req.url === '/slow') {
      slowArrived.open();
      void releaseSlow.promise.then(() => res.end('late'));
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
    res.end('hello');
  });
  const accessLog = [
    fileAccessLog(files.istio, { json_format: toStruct(istioJsonFormat) }),
    fileAccessLog(files.errorsOnly, { json_format: { path: '%REQ(:PATH)%', code: '%RESPONSE_CODE%' } }, celFilter('response.code >= 500')),
    fileAccessLog(files.text, { text_format_source: { inline_string: istioTextFormat } }),
    fileAccessLog(files.flagged, { text_format: '%REQ(:PATH)% %RESPONSE_FLAGS%\n' }, {
      and_filter: {
        filters: [
          { response_flag_filter: { flags: ['UO', 'FI'] } },
          { status_code_filter: { comparison: { op: 'GE', value: { default_value: 503, runtime_key: 'access_log.min_status' } } } },
        ],
      },
    }),
    fileAccessLog(files.debug, { text_format: '%REQ(:PATH)% %REQ(X-DEBUG)%\n' }, celFilter("request.headers['x-debug'] == 'true' && !connection.mtls")),
  ];
  const routes = routeConfig('logged', [virtualHost('logged', ['*'], [
    route({ path: '/ok' }, routeTo(reviews), 'ok-route'),
    route({ path: '/reset' }, routeTo(reviews), 'reset-route'),
    route({ path: '/slow' }, routeTo(reviews), 'slow-route'),
    { ...route({ path: '/fault' }, routeTo(reviews), 'fault-route'), ...perRouteFault({ abort: { http_status: 503, percentage: { numerator: 100 } } }) },
    route({ path: '/overflow' }, routeTo(overflowing), 'overflow-route'),
  ])]);
  await harness.apply({
    clusters: [edsCluster(reviews), edsCluster(overflowing, { circuit_breakers: { thresholds: [{ max_requests: { value: 0 } }] } })],
    endpoints: [assignment(reviews, [upstream.port]), assignment(overflowing, [upstream.port])],
    listeners: [httpListener('logged', { routeConfig: routes, hcm: { access_log: accessLog, http_filters: [faultFilter(), routerFilter] } })],
  });
});

after(async () => {
  releaseSlow.open();
  await harness.close();
  await upstream.close();
  logs.remove();
});

function byPath(path: string): (line: Obj) => boolean {
  return (line) => line.path === path;
}

describe('access log in Istio\'s default JSON format', () => {
  it('writes one JSON line per request with typed status, byte counts and duration', async () => {
    const reply = await send(harness.port(), '/ok', { headers: { 'user-agent': 'weft-test', 'x-request-id': 'req-ok-1' } });
    assert.equal(reply.status, 200);
    const line = await jsonLine(files.istio, (l) => l.request_id === 'req-ok-1');
    assert.deepEqual(Object.keys(line).sort(), Object.keys(istioJsonFormat).sort());
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/ok');
    assert.equal(line.protocol, 'HTTP/1.1');
    assert.equal(line.response_code, 200);
    assert.equal(line.response_flags, '-');
    assert.equal(line.response_code_details, 'via_upstream');
    assert.equal(line.user_agent, 'weft-test');
    assert.equal(line.route_name, 'ok-route');
    assert.equal(line.bytes_received, 0);
    assert.equal(line.bytes_sent, 5);
    assert.equal(line.upstream_cluster, reviews);
    assert.equal(line.upstream_host, `127.0.0.1:${upstream.port}`);
    assert.equal(typeof line.duration, 'number');
    assert.match(String(line.start_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(String(line.downstream_remote_address), /^127\.0\.0\.1:\d+$/);
    assert.equal(line.downstream_local_address, `127.0.0.1:${harness.port()}`);
    // Values the exchange does not have are JSON nulls, as Envoy's JSON formatter writes them.
    assert.equal(line.requested_server_name, null);
    assert.equal(line.x_forwarded_for === null || typeof line.x_forwarded_for === 'string', true);
  });

  it('counts the request body in bytes_received', async () => {
    await send(harness.port(), '/ok?post=1', { method: 'POST', body: 'twelve bytes' });
    const line = await jsonLine(files.istio, byPath('/ok?post=1'));
    assert.equal(line.method, 'POST');
    assert.equal(line.bytes_received, 12);
  });

  it('flags a request whose client went away before the response with DC', async () => {
    const req = http.request({ host: '127.0.0.1', port: harness.port(), path: '/slow' });
    req.on('error', () => {});
    req.end();
    await slowArrived.promise;
    req.destroy();
    const line = await jsonLine(files.istio, byPath('/slow'));
    releaseSlow.open();
    assert.equal(line.response_flags, 'DC');
    assert.equal(line.response_code, 0);
  });

  it('flags a request aborted by the fault filter with FI', async () => {
    assert.equal((await send(harness.port(), '/fault')).status, 503);
    const line = await jsonLine(files.istio, byPath('/fault'));
    assert.equal(line.response_flags, 'FI');
    assert.equal(line.response_code, 503);
    assert.equal(line.response_code_details, 'fault_filter_abort');
  });

  it('flags a request refused by the circuit breaker with UO', async () => {
    assert.equal((await send(harness.port(), '/overflow')).status, 503);
    const line = await jsonLine(files.istio, byPath('/overflow'));
    assert.equal(line.response_flags, 'UO');
    assert.equal(line.response_code, 503);
  });

  it('flags an upstream that reset the connection before responding with UC', async () => {
    assert.equal((await send(harness.port(), '/reset')).status, 503);
    const line = await jsonLine(files.istio, byPath('/reset'));
    assert.match(String(line.response_flags), /^(UC|UR)$/);
    assert.equal(line.response_code, 503);
  });

  it('flags a request no route matches with NR', async () => {
    assert.equal((await send(harness.port(), '/missing')).status, 404);
    const line = await jsonLine(files.istio, byPath('/missing'));
    assert.equal(line.response_flags, 'NR');
    assert.equal(line.response_code, 404);
    assert.equal(line.route_name, null);
    assert.equal(line.response_code_details, 'route_not_found');
  });
});

describe('access log filters', () => {
  it('keeps only 5xx responses with the CEL filter response.code >= 500', async () => {
    for (const path of ['/ok', '/missing', '/fault', '/overflow', '/ok?after=1']) await send(harness.port(), path);
    // The last request is a 200: once it has been written to the other logs, this one had its chance.
    await jsonLine(files.istio, byPath('/ok?after=1'));
    const lines = await linesWhen(files.errorsOnly, (ls) => ls.length >= 2);
    const parsed = lines.map((l) => JSON.parse(l) as Obj);
    assert.ok(parsed.every((l) => typeof l.code === 'number' && l.code >= 500), lines.join('\n'));
    const paths = parsed.map((l) => l.path);
    assert.ok(paths.includes('/fault') && paths.includes('/overflow'), lines.join('\n'));
    assert.ok(!paths.includes('/ok') && !paths.includes('/missing') && !paths.includes('/ok?after=1'), lines.join('\n'));
  });

  it('combines response_flag_filter and status_code_filter with and_filter', async () => {
    for (const path of ['/fault', '/overflow', '/missing', '/ok', '/reset']) await send(harness.port(), path);
    await jsonLine(files.istio, byPath('/reset'));
    const lines = await linesWhen(files.flagged, (ls) => ls.includes('/fault FI') && ls.includes('/overflow UO'));
    assert.ok(lines.every((l) => l === '/fault FI' || l === '/overflow UO'), lines.join('\n'));
  });

  it('logs only requests with a header a CEL filter asks for', async () => {
    await send(harness.port(), '/ok?debug=0', { headers: { 'x-debug': 'false' } });
    await send(harness.port(), '/ok?plain=1');
    await send(harness.port(), '/ok?debug=1', { headers: { 'x-debug': 'true' } });
    const lines = await linesWhen(files.debug, (ls) => ls.length >= 1);
    await jsonLine(files.istio, byPath('/ok?debug=1'));
    assert.deepEqual(lines, ['/ok?debug=1 true']);
  });
});

describe('access log text format', () => {
  it('writes Istio\'s text format with - for what is missing', async () => {
    await send(harness.port(), '/ok', { headers: { 'user-agent': 'text-agent', 'x-request-id': 'text-1' } });
    const lines = await linesWhen(files.text, (ls) => ls.some((l) => l.includes('"text-1"')));
    const line = lines.find((l) => l.includes('"text-1"'))!;
    assert.match(line, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET \/ok HTTP\/1\.1" 200 - via_upstream - "-" \d+ \d+ \d+ /);
    assert.ok(line.includes('"text-agent" "text-1"'), line);
    assert.ok(line.endsWith(' ok-route'), line);
    assert.ok(line.includes(` 127.0.0.1:${harness.port()} 127.0.0.1:`), line);
  });
});

describe('access log of HTTP/2 requests', () => {
  it('prints HTTP/2 as the protocol and the request\'s :authority', async () => {
    const session = connect(harness.port());
    try {
      const reply = await request(session, '/ok?h2=1', { authority: 'reviews:9080', headers: { 'x-request-id': 'h2-1' } });
      assert.equal(reply.status, 200);
    } finally {
      session.close();
    }
    const line = await jsonLine(files.istio, (l) => l.request_id === 'h2-1');
    assert.equal(line.protocol, 'HTTP/2');
    assert.equal(line.authority, 'reviews:9080');
    assert.equal(line.path, '/ok?h2=1');
    assert.equal(line.response_code, 200);
  });
});

describe('access log on HTTP/1.1 keep-alive', () => {
  it('writes a line for each request of a kept-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) await send(harness.port(), `/ok?keepalive=${i}`, { agent });
      for (let i = 0; i < 3; i++) await jsonLine(files.istio, byPath(`/ok?keepalive=${i}`));
    } finally {
      agent.destroy();
    }
  });
});
