// Access log config the proxy cannot honour is rejected when it arrives, naming the listener, the
// field path and the reason: unknown format commands, CEL outside the supported subset, filters and
// loggers that are not supported; and what it can honour (Struct-form JSON, START_TIME formats, the
// CEL forms Istio's docs use) is accepted.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { toStruct } from '../../src/xds/struct.ts';
import { celFilter, fileAccessLog, linesWhen, tempLogDir } from './access-log-support.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain, tcpProxy } from './support/listener-resources.ts';
import { httpListener, routeConfig, virtualHost } from './support/resources.ts';

type Obj = Record<string, unknown>;

const logs = tempLogDir();
const harnesses: Harness[] = [];

after(async () => {
  for (const h of harnesses) await h.close();
  logs.remove();
});

function proxy(): Harness {
  const h = new Harness();
  harnesses.push(h);
  return h;
}

const emptyRoutes = () => routeConfig('none', [virtualHost('none', ['*'], [])]);

function listenerWith(accessLog: Obj[]): Obj {
  return httpListener('logged', { routeConfig: emptyRoutes(), hcm: { access_log: accessLog } });
}

async function rejects(accessLog: Obj[], message: RegExp): Promise<void> {
  await assert.rejects(proxy().dataPlane.updateListeners([listenerWith(accessLog)]), (err: unknown) => {
    assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

const file = logs.file('never.log');

describe('access log config rejected', () => {
  it('rejects an unknown command, naming the field', async () => {
    await rejects([fileAccessLog(file, { text_format: '%REQ(:PATH)% %NOT_A_COMMAND%\n' })],
      /logged.*access_log\[0\]\.typed_config\.log_format\.text_format has the unknown or unsupported command %NOT_A_COMMAND%/);
  });

  it('rejects an unknown command inside a JSON format, naming its key', async () => {
    await rejects([fileAccessLog(file, { json_format: toStruct({ ok: '%RESPONSE_CODE%', bad: '%DYNAMIC_METADATA(x)%' }) })],
      /access_log\[0\]\.typed_config\.log_format\.json_format\.bad has the unknown or unsupported command %DYNAMIC_METADATA%/);
  });

  it('rejects an unsupported strftime conversion in START_TIME', async () => {
    await rejects([fileAccessLog(file, { text_format: '%START_TIME(%Y %Q)%\n' })], /unsupported conversion %Q/);
  });

  it('rejects a CEL attribute Envoy does not have', async () => {
    await rejects([fileAccessLog(file, undefined, celFilter('response.status >= 500'))],
      /access_log\[0\]\.filter\.extension_filter\.typed_config\.expression CEL expression "response\.status >= 500" uses the unknown or unsupported attribute response\.status/);
  });

  it('rejects a CEL function outside the subset', async () => {
    await rejects([fileAccessLog(file, undefined, celFilter("request.path.matches('^/v1')"))], /calls the function matches\(\), which is not supported/);
    await rejects([fileAccessLog(file, undefined, celFilter('has(request.headers.x)'))], /calls the function has\(\), which is not supported/);
  });

  it('rejects a CEL comparison of different types', async () => {
    await rejects([fileAccessLog(file, undefined, celFilter("response.code == '200'"))], /compares int with string/);
  });

  it('rejects a CEL expression that is not a bool, or does not parse', async () => {
    await rejects([fileAccessLog(file, undefined, celFilter('response.code'))], /has type int; a filter needs a bool/);
    await rejects([fileAccessLog(file, undefined, celFilter('response.code >= '))], /ends too early/);
    await rejects([fileAccessLog(file, undefined, celFilter('response.code >= 1.5'))], /floating point/);
  });

  it('rejects an access log filter that is not supported', async () => {
    await rejects([fileAccessLog(file, undefined, { runtime_filter: { runtime_key: 'x' } })], /access_log\[0\]\.filter\.runtime_filter is not supported/);
  });

  it('rejects a response flag Envoy does not know', async () => {
    await rejects([fileAccessLog(file, undefined, { response_flag_filter: { flags: ['UO', 'XX'] } })],
      /access_log\[0\]\.filter\.response_flag_filter\.flags\[1\] "XX" is not an Envoy response flag/);
  });

  it('rejects and_filter with fewer than two filters', async () => {
    await rejects([fileAccessLog(file, undefined, { and_filter: { filters: [{ not_health_check_filter: {} }] } })], /and_filter\.filters has 1 filters/);
  });

  it('rejects an access logger that is not supported', async () => {
    await rejects([{ name: 'envoy.access_loggers.http_grpc', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig' } }],
      /access_log\[0\]\.typed_config type\.googleapis\.com\/envoy\.extensions\.access_loggers\.grpc\.v3\.HttpGrpcAccessLogConfig is not a supported access logger/);
  });

  it('rejects formatter extensions and a missing path', async () => {
    await rejects([fileAccessLog(file, { text_format: '%REQ(:PATH)%\n', formatters: [{ name: 'envoy.formatter.req_without_query' }] })],
      /log_format\.formatters is not supported/);
    await rejects([fileAccessLog('', { text_format: 'x\n' })], /access_log\[0\]\.typed_config\.path is required/);
  });

  it('rejects a bad access log of a tcp_proxy', async () => {
    const tcp = chainsListener('tcp', [filterChain(tcpProxy('tcp', 'nowhere', { access_log: [fileAccessLog(file, { text_format: '%BOGUS%' })] }))]);
    await assert.rejects(proxy().dataPlane.updateListeners([tcp]), /access_log\[0\]\.typed_config\.log_format\.text_format has the unknown or unsupported command %BOGUS%/);
  });
});

describe('access log config accepted', () => {
  it('accepts the CEL forms of Istio\'s Telemetry docs and logs by them', async () => {
    const h = proxy();
    const out = logs.file('accepted.log');
    const expressions = [
      'response.code >= 400',
      'response.code != 200',
      "request.headers['x-debug'] == 'true' || !connection.mtls",
      "(response.flags != 0 || response.code_details == 'route_not_found') && request.method in ['GET', 'HEAD']",
      "request.url_path.startsWith('/missing') && size(request.path) > 3 && xds.route_name != 'x' || true",
    ];
    await h.dataPlane.updateListeners([listenerWith(expressions.map((e, i) => fileAccessLog(out, { text_format: `${i} %REQ(:PATH)% %RESPONSE_FLAGS%\n` }, celFilter(e))))]);
    assert.equal((await send(h.port(), '/missing?q=1')).status, 404);
    // Every expression holds for a GET that no route matched (404, NR), so each log writes its line.
    const lines = await linesWhen(out, (ls) => ls.length >= expressions.length);
    assert.deepEqual(lines.sort(), expressions.map((_e, i) => `${i} /missing?q=1 NR`));
  });

  it('accepts START_TIME with a strftime format and truncates headers to :N', async () => {
    const h = proxy();
    const out = logs.file('strftime.log');
    await h.dataPlane.updateListeners([listenerWith([fileAccessLog(out, { text_format: '%START_TIME(%Y-%m-%d %s.%3f)% %REQ(USER-AGENT):4% %TRAILER(grpc-status)%\n' })])]);
    await send(h.port(), '/x', { headers: { 'user-agent': 'abcdefgh' } });
    const [line] = await linesWhen(out, (ls) => ls.length >= 1);
    assert.match(line, /^\d{4}-\d\d-\d\d \d{10}\.\d{3} abcd -$/);
  });

  it('keeps serving when the log file cannot be opened', async () => {
    const h = proxy();
    const unwritable = logs.file('no-such-directory/access.log');
    const written = logs.file('still-written.log');
    await h.dataPlane.updateListeners([listenerWith([fileAccessLog(unwritable, { text_format: 'x\n' }), fileAccessLog(written, { text_format: '%REQ(:PATH)%\n' })])]);
    for (let i = 0; i < 3; i++) assert.equal((await send(h.port(), `/after-failure/${i}`)).status, 404);
    const lines = await linesWhen(written, (ls) => ls.length >= 3);
    assert.deepEqual(lines, ['/after-failure/0', '/after-failure/1', '/after-failure/2']);
  });
});
