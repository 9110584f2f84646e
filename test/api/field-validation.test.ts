// Field-by-field validation of VirtualService and DestinationRule, as a table: for every field
// Istio's validation checks, a YAML snippet with a bad value and the exact error Weft gives
// (`Kind namespace/name: spec.path: reason`). A second table holds values Istio accepts that a
// stricter reading might refuse; they must stay valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { validateResource } from '../../src/api/index.ts';

type Kind = 'VirtualService' | 'DestinationRule';

interface Row {
  /** The field, as in Istio's reference (`http.match.uri.regex`). */
  readonly field: string;
  /** What is wrong with the value, in a few words. */
  readonly bad: string;
  /** The spec, as YAML. */
  readonly spec: string;
  /** Every error expected, after `Kind default/reviews: `. */
  readonly errors: readonly string[];
}

function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

function manifest(kind: Kind, spec: string): string {
  const body = dedent(spec).split('\n').map((l) => `  ${l}`).join('\n');
  return `apiVersion: networking.istio.io/v1\nkind: ${kind}\nmetadata: { name: reviews, namespace: default }\nspec:\n${body}\n`;
}

function check(kind: Kind, spec: string): { valid: boolean; errors: string[] } {
  const { resource, errors } = validateResource(parse(manifest(kind, spec)));
  return { valid: resource !== undefined, errors: errors.map((e) => e.text) };
}

/** Every row must be refused with exactly its errors; rows with the same field and reason are a table bug. */
function rejectTable(kind: Kind, rows: readonly Row[]): void {
  for (const row of rows) {
    test(`${kind} ${row.field}: rejects ${row.bad}`, () => {
      const result = check(kind, row.spec);
      assert.equal(result.valid, false, 'the resource must be refused');
      assert.deepEqual(result.errors, row.errors.map((e) => `${kind} default/reviews: ${e}`));
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

// A VirtualService for `reviews` whose single HTTP rule is `rule` (YAML lines, without the leading `- `).
const vsRule = (rule: string) => `
hosts: [reviews]
http:
- ${dedent(rule).split('\n').join('\n  ')}
`;
const toReviews = 'route: [{ destination: { host: reviews } }]';
const vsMatch = (match: string) => vsRule(`match: [${match}]\n${toReviews}`);

const ONE_MB = 1024 * 1024;
const LONG_REGEX = `^/${'a'.repeat(1023)}`;

rejectTable('VirtualService', [
  // hosts
  { field: 'hosts', bad: 'a wildcard in the middle of a name', spec: `hosts: ["a.*.example.com"]\n${'http: [{ ' + toReviews + ' }]'}`, errors: ['spec.hosts[0]: "a.*.example.com" is not a valid host name (label "*" is invalid)'] },
  { field: 'hosts', bad: 'an empty host', spec: `hosts: [""]\nhttp: [{ ${toReviews} }]`, errors: ['spec.hosts[0]: must not be empty'] },
  { field: 'hosts', bad: '"*" when bound to the mesh gateway', spec: `hosts: ["*"]\ngateways: [mesh, bookinfo-gateway]\nhttp: [{ ${toReviews} }]`, errors: ['spec.hosts[0]: the wildcard host "*" is only allowed for virtual services bound to gateways (not to the mesh)'] },
  { field: 'hosts', bad: 'a host listed twice', spec: `hosts: [reviews, reviews]\nhttp: [{ ${toReviews} }]`, errors: ['spec.hosts[1]: duplicate host "reviews"'] },
  { field: 'hosts', bad: 'a host covered by a wildcard host', spec: `hosts: ["*.example.com", api.example.com]\nhttp: [{ ${toReviews} }]`, errors: ['spec.hosts[1]: host "api.example.com" overlaps host "*.example.com" (hosts[0]); list each name once'] },
  { field: 'hosts', bad: 'a string instead of a list', spec: `hosts: reviews\nhttp: [{ ${toReviews} }]`, errors: ['spec.hosts: must be an array of strings'] },
  // gateways, exportTo
  { field: 'gateways', bad: 'an invalid gateway name', spec: `hosts: [reviews]\ngateways: [istio-system/Bad_GW]\nhttp: [{ ${toReviews} }]`, errors: ['spec.gateways[0]: "istio-system/Bad_GW": invalid gateway name "Bad_GW"'] },
  { field: 'gateways', bad: 'an empty namespace', spec: `hosts: [reviews]\ngateways: [/gw]\nhttp: [{ ${toReviews} }]`, errors: ['spec.gateways[0]: "/gw": namespace and gateway name must not be empty'] },
  { field: 'exportTo', bad: '".."', spec: `hosts: [reviews]\nexportTo: [".."]\nhttp: [{ ${toReviews} }]`, errors: ['spec.exportTo[0]: must be ".", "*" or a namespace name (got "..")'] },
  { field: 'exportTo', bad: '"~" (ServiceEntry only)', spec: `hosts: [reviews]\nexportTo: ["~"]\nhttp: [{ ${toReviews} }]`, errors: ['spec.exportTo[0]: must be ".", "*" or a namespace name (got "~")'] },
  { field: 'exportTo', bad: '"*" with other entries', spec: `hosts: [reviews]\nexportTo: ["*", prod]\nhttp: [{ ${toReviews} }]`, errors: ['spec.exportTo: "*" (public) cannot be combined with other entries'] },
  { field: 'exportTo', bad: '"." and the own namespace', spec: `hosts: [reviews]\nexportTo: [".", default]\nhttp: [{ ${toReviews} }]`, errors: ['spec.exportTo[1]: duplicate entry "default"'] },
  // routes at all
  { field: 'http/tls/tcp', bad: 'a VirtualService without routes', spec: 'hosts: [reviews]', errors: ['spec: at least one of http, tls or tcp routes is required'] },
  // delegate VirtualServices (no hosts)
  { field: 'gateways (delegate)', bad: 'gateways on a VirtualService without hosts', spec: `gateways: [bookinfo-gateway]\nhttp: [{ ${toReviews} }]`, errors: ['spec.gateways: a VirtualService without hosts is a delegate: it takes the gateways of the VirtualService that delegates to it and cannot set its own'] },
  { field: 'tcp (delegate)', bad: 'TCP routes on a VirtualService without hosts', spec: 'tcp: [{ route: [{ destination: { host: db } }] }]', errors: ['spec.tcp: a VirtualService without hosts is a delegate: it can only hold http routes'] },
  { field: 'tls (delegate)', bad: 'TLS routes on a VirtualService without hosts', spec: 'tls: [{ match: [{ sniHosts: [a.example.com] }], route: [{ destination: { host: a.example.com } }] }]', errors: ['spec.tls: a VirtualService without hosts is a delegate: it can only hold http routes'] },
  { field: 'http.delegate (delegate)', bad: 'a delegate that delegates again', spec: 'http: [{ delegate: { name: more-routes } }]', errors: ['spec.http[0].delegate: a VirtualService without hosts is a delegate and cannot delegate again (one level of delegation only)'] },
  // http actions and delegate references
  { field: 'http.delegate', bad: 'a delegate together with route', spec: vsRule(`delegate: { name: reviews-routes }\n${toReviews}`), errors: ['spec.http[0]: delegate cannot be combined with route (the delegate VirtualService\'s rules decide where requests go)'] },
  { field: 'http.delegate', bad: 'a delegate together with redirect', spec: vsRule('delegate: { name: reviews-routes }\nredirect: { uri: /v2 }'), errors: ['spec.http[0]: delegate cannot be combined with redirect (the delegate VirtualService\'s rules decide where requests go)'] },
  { field: 'http.delegate.name', bad: 'a missing name', spec: vsRule('delegate: { namespace: prod }'), errors: ['spec.http[0].delegate.name: is required'] },
  { field: 'http.delegate.name', bad: 'a name that is no object name', spec: vsRule('delegate: { name: Reviews_Routes }'), errors: ['spec.http[0].delegate.name: must be a DNS-1123 subdomain (lower case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)'] },
  { field: 'http.delegate.namespace', bad: 'an invalid namespace', spec: vsRule('delegate: { name: reviews-routes, namespace: Prod }'), errors: ['spec.http[0].delegate.namespace: "Prod" is not a valid namespace name'] },
  { field: 'http', bad: 'a rule with no action', spec: vsRule('match: [{ uri: { prefix: / } }]'), errors: ['spec.http[0]: one of route, redirect, directResponse or delegate is required'] },
  { field: 'http.directResponse', bad: 'a direct response with a route', spec: vsRule(`directResponse: { status: 503 }\n${toReviews}`), errors: ['spec.http[0]: only one of route, redirect, directResponse may be set (found route and directResponse)'] },
  { field: 'http.directResponse', bad: 'a direct response with a fault', spec: vsRule('directResponse: { status: 503 }\nfault: { abort: { httpStatus: 500 } }'), errors: ['spec.http[0]: directResponse cannot be combined with fault'] },
  { field: 'http.directResponse', bad: 'a direct response with a rewrite', spec: vsRule('directResponse: { status: 200 }\nrewrite: { uri: /x }'), errors: ['spec.http[0]: directResponse cannot be combined with rewrite'] },
  { field: 'http.redirect', bad: 'a redirect with a fault', spec: vsRule('redirect: { uri: /x }\nfault: { abort: { httpStatus: 500 } }'), errors: ['spec.http[0]: redirect cannot be combined with fault'] },
  // http.match
  { field: 'http.match.uri.regex', bad: 'a lookahead (not RE2)', spec: vsMatch('{ uri: { regex: "^/(?!admin)" } }'), errors: ['spec.http[0].match[0].uri.regex: invalid regex: lookahead (?= or (?! is not supported (Istio uses RE2 syntax)'] },
  { field: 'http.match.uri.regex', bad: 'a backreference (not RE2)', spec: vsMatch('{ uri: { regex: "(a)\\\\1" } }'), errors: ['spec.http[0].match[0].uri.regex: invalid regex: backreference \\1 is not supported (Istio uses RE2 syntax)'] },
  { field: 'http.match.uri.regex', bad: 'an unbalanced group', spec: vsMatch('{ uri: { regex: "/(v1" } }'), errors: ['spec.http[0].match[0].uri.regex: invalid regex: Unterminated group (Istio uses RE2 syntax)'] },
  { field: 'http.match.uri.regex', bad: 'an empty regex', spec: vsMatch('{ uri: { regex: "" } }'), errors: ['spec.http[0].match[0].uri.regex: must not be empty'] },
  { field: 'http.match.uri.regex', bad: 'a regex over 1024 characters', spec: vsMatch(`{ uri: { regex: "${LONG_REGEX}" } }`), errors: ['spec.http[0].match[0].uri.regex: regex is too long (1025 characters; at most 1024)'] },
  { field: 'http.match.uri', bad: 'exact and prefix together', spec: vsMatch('{ uri: { exact: /a, prefix: /b } }'), errors: ['spec.http[0].match[0].uri: only one of exact, prefix, regex may be set (found exact and prefix)'] },
  { field: 'http.match.uri', bad: 'an unknown match kind', spec: vsMatch('{ uri: { suffix: .html } }'), errors: ['spec.http[0].match[0].uri.suffix: unknown field'] },
  { field: 'http.match.scheme', bad: 'an empty prefix', spec: vsMatch('{ scheme: { prefix: "" } }'), errors: ['spec.http[0].match[0].scheme.prefix: must not be empty (omit the match to match any value)'] },
  { field: 'http.match.method', bad: 'an empty prefix', spec: vsMatch('{ method: { prefix: "" } }'), errors: ['spec.http[0].match[0].method.prefix: must not be empty (omit the match to match any value)'] },
  { field: 'http.match.method', bad: 'a number', spec: vsMatch('{ method: { exact: 1 } }'), errors: ['spec.http[0].match[0].method.exact: must be a string'] },
  { field: 'http.match.authority', bad: 'an invalid regex', spec: vsMatch('{ authority: { regex: "[a-" } }'), errors: ['spec.http[0].match[0].authority.regex: invalid regex: Unterminated character class (Istio uses RE2 syntax)'] },
  { field: 'http.match.headers', bad: 'a header name with a space', spec: vsMatch('{ headers: { "end user": { exact: jason } } }'), errors: ['spec.http[0].match[0].headers["end user"]: "end user" is not a valid header name'] },
  { field: 'http.match.headers', bad: 'regex "*" (not RE2 outside withoutHeaders)', spec: vsMatch('{ headers: { x-user: { regex: "*" } } }'), errors: ['spec.http[0].match[0].headers.x-user.regex: invalid regex: Nothing to repeat (Istio uses RE2 syntax)'] },
  { field: 'http.match.headers', bad: 'an empty prefix', spec: vsMatch('{ headers: { x-user: { prefix: "" } } }'), errors: ['spec.http[0].match[0].headers.x-user.prefix: must not be empty (omit the match to match any value)'] },
  { field: 'http.match.headers', bad: 'a JWT claim on a mesh VirtualService', spec: vsMatch('{ headers: { "@request.auth.claims.group": { exact: admin } } }'), errors: ['spec.http[0].match[0].headers["@request.auth.claims.group"]: JWT claim based routing is only supported for virtual services bound to gateways (not to the mesh)'] },
  { field: 'http.match.headers', bad: 'a malformed JWT claim name', spec: `hosts: [reviews]\ngateways: [bookinfo-gateway]\nhttp:\n- match: [{ headers: { "@request.auth.claimsgroup": { exact: admin } } }]\n  ${toReviews}`, errors: ['spec.http[0].match[0].headers["@request.auth.claimsgroup"]: "@request.auth.claimsgroup" is not a valid header name'] },
  { field: 'http.match.withoutHeaders', bad: 'an empty prefix', spec: vsMatch('{ withoutHeaders: { x-debug: { prefix: "" } } }'), errors: ['spec.http[0].match[0].withoutHeaders.x-debug.prefix: must not be empty (omit the match to match any value)'] },
  { field: 'http.match.withoutHeaders', bad: 'an invalid regex', spec: vsMatch('{ withoutHeaders: { x-debug: { regex: "(?<=a)b" } } }'), errors: ['spec.http[0].match[0].withoutHeaders.x-debug.regex: invalid regex: lookbehind (?<= or (?<! is not supported (Istio uses RE2 syntax)'] },
  { field: 'http.match.queryParams', bad: 'an invalid regex', spec: vsMatch('{ queryParams: { v: { regex: "\\\\d{1001}" } } }'), errors: ['spec.http[0].match[0].queryParams.v.regex: invalid regex: repeat count {1001} exceeds 1000 (Istio uses RE2 syntax)'] },
  { field: 'http.match.queryParams', bad: 'an empty prefix', spec: vsMatch('{ queryParams: { v: { prefix: "" } } }'), errors: ['spec.http[0].match[0].queryParams.v.prefix: must not be empty (omit the match to match any value)'] },
  { field: 'http.match.port', bad: 'port 0', spec: vsMatch('{ port: 0 }'), errors: ['spec.http[0].match[0].port: must be an integer 1..65535'] },
  { field: 'http.match.port', bad: 'port 65536', spec: vsMatch('{ port: 65536 }'), errors: ['spec.http[0].match[0].port: must be an integer 1..65535'] },
  { field: 'http.match.sourceLabels', bad: 'a wildcard label value', spec: vsMatch('{ sourceLabels: { app: "*" } }'), errors: ['spec.http[0].match[0].sourceLabels.app: invalid label value "*" (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)'] },
  { field: 'http.match.sourceLabels', bad: 'an invalid label key', spec: vsMatch('{ sourceLabels: { "-app": productpage } }'), errors: ['spec.http[0].match[0].sourceLabels.-app: invalid label key "-app"'] },
  { field: 'http.match.gateways', bad: 'an invalid gateway reference', spec: vsMatch('{ gateways: ["ns/gw/x"] }'), errors: ['spec.http[0].match[0].gateways[0]: "ns/gw/x": invalid gateway name "gw/x"'] },
  { field: 'http.match.ignoreUriCase', bad: 'a string', spec: vsMatch('{ uri: { prefix: /a }, ignoreUriCase: "yes" }'), errors: ['spec.http[0].match[0].ignoreUriCase: must be a boolean (true or false)'] },
  { field: 'http.match.sourceNamespace', bad: 'an invalid namespace', spec: vsMatch('{ sourceNamespace: Prod_1 }'), errors: ['spec.http[0].match[0].sourceNamespace: "Prod_1" is not a valid namespace name'] },
  // http.route
  { field: 'http.route.weight', bad: 'a negative weight', spec: vsRule('route: [{ destination: { host: reviews }, weight: -1 }]'), errors: ['spec.http[0].route[0].weight: must be an integer 0..100'] },
  { field: 'http.route.weight', bad: 'a weight over 100', spec: vsRule('route: [{ destination: { host: reviews }, weight: 101 }]'), errors: ['spec.http[0].route[0].weight: must be an integer 0..100'] },
  { field: 'http.route.weight', bad: 'weights not summing to 100', spec: vsRule('route: [{ destination: { host: reviews, subset: v1 }, weight: 60 }, { destination: { host: reviews, subset: v2 }, weight: 30 }]'), errors: ['spec.http[0].route: weights must sum to 100 when a route has more than one destination (they sum to 90)'] },
  { field: 'http.route.weight', bad: 'a fractional weight', spec: vsRule('route: [{ destination: { host: reviews }, weight: 50.5 }]'), errors: ['spec.http[0].route[0].weight: must be an integer 0..100'] },
  { field: 'http.route.destination', bad: 'a missing destination', spec: vsRule('route: [{ weight: 100 }]'), errors: ['spec.http[0].route[0].destination: is required'] },
  { field: 'http.route.destination.host', bad: 'an empty host', spec: vsRule('route: [{ destination: { host: "" } }]'), errors: ['spec.http[0].route[0].destination.host: must not be empty'] },
  { field: 'http.route.destination.host', bad: '"*"', spec: vsRule('route: [{ destination: { host: "*" } }]'), errors: ['spec.http[0].route[0].destination.host: must name a service, not "*"'] },
  { field: 'http.route.destination.host', bad: 'an IP address', spec: vsRule('route: [{ destination: { host: 10.0.0.1 } }]'), errors: ['spec.http[0].route[0].destination.host: "10.0.0.1" is an IP address; name the service by its host name'] },
  { field: 'http.route.destination.subset', bad: 'a name with a dot', spec: vsRule('route: [{ destination: { host: reviews, subset: v1.0 } }]'), errors: ['spec.http[0].route[0].destination.subset: subset name "v1.0" is not a valid DNS label'] },
  { field: 'http.route.destination.subset', bad: 'an empty name', spec: vsRule('route: [{ destination: { host: reviews, subset: "" } }]'), errors: ['spec.http[0].route[0].destination.subset: must not be empty'] },
  { field: 'http.route.destination.port', bad: 'port 0', spec: vsRule('route: [{ destination: { host: reviews, port: { number: 0 } } }]'), errors: ['spec.http[0].route[0].destination.port.number: must be an integer 1..65535'] },
  { field: 'http.route.destination.port', bad: 'port 70000', spec: vsRule('route: [{ destination: { host: reviews, port: { number: 70000 } } }]'), errors: ['spec.http[0].route[0].destination.port.number: must be an integer 1..65535'] },
  { field: 'http.route.headers', bad: 'changing Host in the response', spec: vsRule('route: [{ destination: { host: reviews }, headers: { response: { set: { host: x } } } }]'), errors: ['spec.http[0].route[0].headers.response.set.host: the Host header cannot be changed here (use rewrite.authority)'] },
  { field: 'http.route.headers', bad: 'a value with a lone "%"', spec: vsRule('route: [{ destination: { host: reviews }, headers: { request: { add: { x-share: "50%" } } } }]'), errors: ['spec.http[0].route[0].headers.request.add.x-share: header value "50%" ends with a lone "%" (write "%%" for a percent sign)'] },
  // http.redirect
  { field: 'http.redirect.redirectCode', bad: 'a code that is not 3xx', spec: vsRule('redirect: { uri: /new, redirectCode: 200 }'), errors: ['spec.http[0].redirect.redirectCode: must be an integer 300..399'] },
  { field: 'http.redirect', bad: 'uri and prefixRewrite together', spec: vsRule('redirect: { uri: /new, prefixRewrite: /v2 }'), errors: ['spec.http[0].redirect: only one of uri, prefixRewrite may be set (found uri and prefixRewrite)'] },
  { field: 'http.redirect.prefixRewrite', bad: 'a prefix rewrite for an exact uri match', spec: vsRule('match: [{ uri: { exact: /v1 } }]\nredirect: { prefixRewrite: /v2 }'), errors: ['spec.http[0].redirect.prefixRewrite: needs every uri match of the rule to be a prefix match (match[0].uri is not)'] },
  { field: 'http.redirect.scheme', bad: '"ftp"', spec: vsRule('redirect: { scheme: ftp }'), errors: ['spec.http[0].redirect.scheme: must be "http" or "https"'] },
  { field: 'http.redirect.port', bad: 'port and derivePort together', spec: vsRule('redirect: { port: 8080, derivePort: FROM_REQUEST_PORT }'), errors: ['spec.http[0].redirect: only one of port, derivePort may be set (found port and derivePort)'] },
  { field: 'http.redirect.port', bad: 'port 0', spec: vsRule('redirect: { port: 0 }'), errors: ['spec.http[0].redirect.port: must be an integer 1..65535'] },
  { field: 'http.redirect.derivePort', bad: 'an unknown value', spec: vsRule('redirect: { derivePort: SAME }'), errors: ['spec.http[0].redirect.derivePort: must be one of FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT (got "SAME")'] },
  { field: 'http.redirect', bad: 'a redirect that changes nothing', spec: vsRule('redirect: { redirectCode: 301 }'), errors: ['spec.http[0].redirect: a redirect must set uri, prefixRewrite, authority, scheme, port or derivePort'] },
  // http.directResponse
  { field: 'http.directResponse.status', bad: 'status 199', spec: vsRule('directResponse: { status: 199 }'), errors: ['spec.http[0].directResponse.status: must be an integer 200..599'] },
  { field: 'http.directResponse.status', bad: 'status 600', spec: vsRule('directResponse: { status: 600 }'), errors: ['spec.http[0].directResponse.status: must be an integer 200..599'] },
  { field: 'http.directResponse.status', bad: 'a missing status', spec: vsRule('directResponse: { body: { string: hi } }'), errors: ['spec.http[0].directResponse.status: is required'] },
  { field: 'http.directResponse.body.string', bad: 'a body over 1MB', spec: vsRule(`directResponse: { status: 200, body: { string: "${'x'.repeat(ONE_MB + 1)}" } }`), errors: ['spec.http[0].directResponse.body.string: must be at most 1MB (a direct response body is part of every proxy\'s configuration)'] },
  { field: 'http.directResponse.body.bytes', bad: 'a body over 1MB', spec: vsRule(`directResponse: { status: 200, body: { bytes: "${'QUFB'.repeat(ONE_MB / 3 + 1)}" } }`), errors: ['spec.http[0].directResponse.body.bytes: must be at most 1MB (a direct response body is part of every proxy\'s configuration)'] },
  { field: 'http.directResponse.body.bytes', bad: 'a body that is not base64', spec: vsRule('directResponse: { status: 200, body: { bytes: "not base64!" } }'), errors: ['spec.http[0].directResponse.body.bytes: must be base64'] },
  { field: 'http.directResponse.body', bad: 'string and bytes together', spec: vsRule('directResponse: { status: 200, body: { string: a, bytes: YQ== } }'), errors: ['spec.http[0].directResponse.body: only one of string, bytes may be set (found string and bytes)'] },
  // http.rewrite
  { field: 'http.rewrite', bad: 'uri and uriRegexRewrite together', spec: vsRule(`rewrite: { uri: /v2, uriRegexRewrite: { match: "^/v1", rewrite: /v2 } }\n${toReviews}`), errors: ['spec.http[0].rewrite: only one of uri, uriRegexRewrite may be set (found uri and uriRegexRewrite)'] },
  { field: 'http.rewrite', bad: 'a rewrite that changes nothing', spec: vsRule(`rewrite: {}\n${toReviews}`), errors: ['spec.http[0].rewrite: a rewrite must set uri, uriRegexRewrite or authority'] },
  { field: 'http.rewrite.uriRegexRewrite.match', bad: 'an invalid regex', spec: vsRule(`rewrite: { uriRegexRewrite: { match: "(?=v1)", rewrite: /v2 } }\n${toReviews}`), errors: ['spec.http[0].rewrite.uriRegexRewrite.match: invalid regex: lookahead (?= or (?! is not supported (Istio uses RE2 syntax)'] },
  { field: 'http.rewrite.uriRegexRewrite.rewrite', bad: 'an empty rewrite', spec: vsRule(`rewrite: { uriRegexRewrite: { match: "^/v1", rewrite: "" } }\n${toReviews}`), errors: ['spec.http[0].rewrite.uriRegexRewrite.rewrite: must not be empty'] },
  { field: 'http.rewrite.uriRegexRewrite', bad: 'a missing rewrite', spec: vsRule(`rewrite: { uriRegexRewrite: { match: "^/v1" } }\n${toReviews}`), errors: ['spec.http[0].rewrite.uriRegexRewrite.rewrite: is required'] },
  { field: 'http.rewrite.authority', bad: 'an authority also set as a header', spec: vsRule(`rewrite: { authority: a.example.com }\nheaders: { request: { set: { host: b.example.com } } }\n${toReviews}`), errors: ['spec.http[0]: the authority is set more than once (rewrite.authority and headers.request.set["host"]); set it in one place'] },
  // http.headers
  { field: 'http.headers.request.set', bad: 'a pseudo-header', spec: vsRule(`headers: { request: { set: { ":path": /x } } }\n${toReviews}`), errors: ['spec.http[0].headers.request.set[":path"]: ":path": pseudo-headers (":" prefix) cannot be changed'] },
  { field: 'http.headers.request.add', bad: 'an unterminated %VARIABLE%', spec: vsRule(`headers: { request: { add: { x-client: "%DOWNSTREAM_REMOTE_ADDRESS" } } }\n${toReviews}`), errors: ['spec.http[0].headers.request.add.x-client: header value "%DOWNSTREAM_REMOTE_ADDRESS" has an unterminated %VARIABLE% expression (write "%%" for a percent sign)'] },
  { field: 'http.headers.request.set', bad: 'a value with a control character', spec: vsRule(`headers: { request: { set: { x-a: "a\\u0001b" } } }\n${toReviews}`), errors: ['spec.http[0].headers.request.set.x-a: header value must not contain control characters'] },
  { field: 'http.headers.response.add', bad: 'the Host header', spec: vsRule(`headers: { response: { add: { Host: x } } }\n${toReviews}`), errors: ['spec.http[0].headers.response.add.Host: the Host header cannot be changed here (use rewrite.authority)'] },
  { field: 'http.headers.request.remove', bad: 'an empty name', spec: vsRule(`headers: { request: { remove: [""] } }\n${toReviews}`), errors: ['spec.http[0].headers.request.remove[0]: header name must not be empty'] },
  // http.timeout
  { field: 'http.timeout', bad: 'a negative duration', spec: vsRule(`timeout: -1s\n${toReviews}`), errors: ['spec.http[0].timeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "-1s")'] },
  { field: 'http.timeout', bad: 'a number without a unit', spec: vsRule(`timeout: "10"\n${toReviews}`), errors: ['spec.http[0].timeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "10")'] },
  { field: 'http.timeout', bad: 'a duration below 1ms', spec: vsRule(`timeout: 0.5ms\n${toReviews}`), errors: ['spec.http[0].timeout: must be at least 1ms'] },
  { field: 'http.timeout', bad: 'a duration finer than 1ms', spec: vsRule(`timeout: 1500us\n${toReviews}`), errors: ['spec.http[0].timeout: must be a whole number of milliseconds (got "1500us"; Istio supports millisecond precision)'] },
  // http.retries
  { field: 'http.retries.attempts', bad: 'negative attempts', spec: vsRule(`retries: { attempts: -1 }\n${toReviews}`), errors: ['spec.http[0].retries.attempts: must be an integer 0..2147483647'] },
  { field: 'http.retries.retryOn', bad: 'an unknown policy', spec: vsRule(`retries: { attempts: 2, retryOn: "5xx,sometimes" }\n${toReviews}`), errors: ['spec.http[0].retries.retryOn: "sometimes" is not a valid retryOn policy (an Envoy retry-on name such as 5xx, connect-failure or unavailable, or an HTTP status code)'] },
  { field: 'http.retries.retryOn', bad: 'a number that is no HTTP status', spec: vsRule(`retries: { attempts: 2, retryOn: "503,599" }\n${toReviews}`), errors: ['spec.http[0].retries.retryOn: "599" is not a valid retryOn policy (an Envoy retry-on name such as 5xx, connect-failure or unavailable, or an HTTP status code)'] },
  { field: 'http.retries.retryOn', bad: 'a trailing comma', spec: vsRule(`retries: { attempts: 2, retryOn: "5xx," }\n${toReviews}`), errors: ['spec.http[0].retries.retryOn: has an empty entry (a stray comma?)'] },
  { field: 'http.retries.perTryTimeout', bad: 'a duration below 1ms', spec: vsRule(`retries: { attempts: 2, perTryTimeout: 100us }\n${toReviews}`), errors: ['spec.http[0].retries.perTryTimeout: must be at least 1ms'] },
  { field: 'http.retries.backoff', bad: 'a malformed duration', spec: vsRule(`retries: { attempts: 2, backoff: fast }\n${toReviews}`), errors: ['spec.http[0].retries.backoff: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "fast")'] },
  { field: 'http.retries', bad: 'settings with retries disabled', spec: vsRule(`retries: { attempts: 0, retryOn: 5xx }\n${toReviews}`), errors: ['spec.http[0].retries: retry settings are given but attempts is 0 (retries disabled)'] },
  // http.fault
  { field: 'http.fault', bad: 'neither delay nor abort', spec: vsRule(`fault: {}\n${toReviews}`), errors: ['spec.http[0].fault: fault injection must set delay, abort or both'] },
  { field: 'http.fault.delay.percentage', bad: 'a percentage over 100', spec: vsRule(`fault: { delay: { fixedDelay: 5s, percentage: { value: 101 } } }\n${toReviews}`), errors: ['spec.http[0].fault.delay.percentage.value: must be a number 0..100'] },
  { field: 'http.fault.delay.percentage', bad: 'a percentage below Envoy\'s resolution', spec: vsRule(`fault: { delay: { fixedDelay: 5s, percentage: { value: 0.00001 } } }\n${toReviews}`), errors: ['spec.http[0].fault.delay.percentage.value: must be 0 or at least 0.0001'] },
  { field: 'http.fault.delay.fixedDelay', bad: 'a zero delay', spec: vsRule(`fault: { delay: { fixedDelay: 0s } }\n${toReviews}`), errors: ['spec.http[0].fault.delay.fixedDelay: must be at least 1ms'] },
  { field: 'http.fault.delay.exponentialDelay', bad: 'an exponential delay (not supported)', spec: vsRule(`fault: { delay: { exponentialDelay: 1s } }\n${toReviews}`), errors: ['spec.http[0].fault.delay.exponentialDelay: exponentialDelay is not supported (Istio rejects it too)'] },
  { field: 'http.fault.delay.percent', bad: 'a percent over 100', spec: vsRule(`fault: { delay: { fixedDelay: 1s, percent: 150 } }\n${toReviews}`), errors: ['spec.http[0].fault.delay.percent: must be an integer 0..100'] },
  { field: 'http.fault.abort.httpStatus', bad: 'status 700', spec: vsRule(`fault: { abort: { httpStatus: 700 } }\n${toReviews}`), errors: ['spec.http[0].fault.abort.httpStatus: must be an integer 200..599'] },
  { field: 'http.fault.abort.httpStatus', bad: 'status 100', spec: vsRule(`fault: { abort: { httpStatus: 100 } }\n${toReviews}`), errors: ['spec.http[0].fault.abort.httpStatus: must be an integer 200..599'] },
  { field: 'http.fault.abort.grpcStatus', bad: 'a number instead of a name', spec: vsRule(`fault: { abort: { grpcStatus: "14" } }\n${toReviews}`), errors: ['spec.http[0].fault.abort.grpcStatus: "14" is not a gRPC status name (e.g. UNAVAILABLE, NOT_FOUND)'] },
  { field: 'http.fault.abort.http2Error', bad: 'an HTTP/2 error (not supported)', spec: vsRule(`fault: { abort: { http2Error: CANCEL } }\n${toReviews}`), errors: ['spec.http[0].fault.abort.http2Error: http2Error is not supported (Istio rejects it too)'] },
  { field: 'http.fault.abort', bad: 'two status kinds', spec: vsRule(`fault: { abort: { httpStatus: 503, grpcStatus: UNAVAILABLE } }\n${toReviews}`), errors: ['spec.http[0].fault.abort: only one of httpStatus, grpcStatus, http2Error may be set (found httpStatus and grpcStatus)'] },
  { field: 'http.fault.abort.percentage', bad: 'a negative percentage', spec: vsRule(`fault: { abort: { httpStatus: 503, percentage: { value: -1 } } }\n${toReviews}`), errors: ['spec.http[0].fault.abort.percentage.value: must be a number 0..100'] },
  // mirroring
  { field: 'http.mirrorPercentage', bad: 'a percentage over 100', spec: vsRule(`mirror: { host: reviews-shadow }\nmirrorPercentage: { value: 100.5 }\n${toReviews}`), errors: ['spec.http[0].mirrorPercentage.value: must be a number 0..100'] },
  { field: 'http.mirrorPercent', bad: 'a percent over 100', spec: vsRule(`mirror: { host: reviews-shadow }\nmirrorPercent: 101\n${toReviews}`), errors: ['spec.http[0].mirrorPercent: must be an integer 0..100'] },
  { field: 'http.mirrors.percentage', bad: 'a negative percentage', spec: vsRule(`mirrors: [{ destination: { host: reviews-shadow }, percentage: { value: -5 } }]\n${toReviews}`), errors: ['spec.http[0].mirrors[0].percentage.value: must be a number 0..100'] },
  { field: 'http.mirrors.destination', bad: 'a missing destination', spec: vsRule(`mirrors: [{ percentage: { value: 5 } }]\n${toReviews}`), errors: ['spec.http[0].mirrors[0].destination: is required'] },
  { field: 'http.mirror', bad: 'mirror and mirrors together', spec: vsRule(`mirror: { host: a }\nmirrors: [{ destination: { host: b } }]\n${toReviews}`), errors: ['spec.http[0]: only one of mirror, mirrors may be set (found mirror and mirrors)'] },
  { field: 'http.mirror.host', bad: '"*"', spec: vsRule(`mirror: { host: "*" }\n${toReviews}`), errors: ['spec.http[0].mirror.host: must name a service, not "*"'] },
  // corsPolicy
  { field: 'http.corsPolicy.allowOrigins', bad: 'an invalid regex', spec: vsRule(`corsPolicy: { allowOrigins: [{ regex: "https://(?!evil)" }] }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.allowOrigins[0].regex: invalid regex: lookahead (?= or (?! is not supported (Istio uses RE2 syntax)'] },
  { field: 'http.corsPolicy.allowOrigins', bad: 'an entry that matches nothing', spec: vsRule(`corsPolicy: { allowOrigins: [{}] }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.allowOrigins[0]: must set a non-empty exact, prefix or regex'] },
  { field: 'http.corsPolicy.allowOrigins', bad: 'an empty exact origin', spec: vsRule(`corsPolicy: { allowOrigins: [{ exact: "" }] }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.allowOrigins[0]: must set a non-empty exact, prefix or regex'] },
  { field: 'http.corsPolicy.allowMethods', bad: 'an unknown method', spec: vsRule(`corsPolicy: { allowMethods: [GET, FETCH] }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.allowMethods[1]: "FETCH" is not a supported HTTP method'] },
  { field: 'http.corsPolicy.allowHeaders', bad: 'a header name with a space', spec: vsRule(`corsPolicy: { allowHeaders: ["x user"] }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.allowHeaders[0]: "x user" is not a valid header name'] },
  { field: 'http.corsPolicy.exposeHeaders', bad: 'an empty header name', spec: vsRule(`corsPolicy: { exposeHeaders: [""] }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.exposeHeaders[0]: "" is not a valid header name'] },
  { field: 'http.corsPolicy.maxAge', bad: 'a negative duration', spec: vsRule(`corsPolicy: { maxAge: -1s }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.maxAge: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "-1s")'] },
  { field: 'http.corsPolicy.maxAge', bad: 'a fraction of a second', spec: vsRule(`corsPolicy: { maxAge: 1500ms }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.maxAge: must be a whole number of seconds (got "1500ms"; Access-Control-Max-Age has seconds precision)'] },
  { field: 'http.corsPolicy.unmatchedPreflights', bad: 'an unknown value', spec: vsRule(`corsPolicy: { unmatchedPreflights: DROP }\n${toReviews}`), errors: ['spec.http[0].corsPolicy.unmatchedPreflights: must be one of UNSPECIFIED, FORWARD, IGNORE (got "DROP")'] },
  // tls and tcp routes
  { field: 'tls.match', bad: 'a TLS route without match', spec: 'hosts: [a.example.com]\ntls: [{ route: [{ destination: { host: a.example.com } }] }]', errors: ['spec.tls[0].match: is required'] },
  { field: 'tls.match.sniHosts', bad: 'a match without sniHosts', spec: 'hosts: [a.example.com]\ntls: [{ match: [{ port: 443 }], route: [{ destination: { host: a.example.com } }] }]', errors: ['spec.tls[0].match[0].sniHosts: is required'] },
  { field: 'tls.match.sniHosts', bad: 'an empty list', spec: 'hosts: [a.example.com]\ntls: [{ match: [{ sniHosts: [] }], route: [{ destination: { host: a.example.com } }] }]', errors: ['spec.tls[0].match[0].sniHosts: must not be empty'] },
  { field: 'tls.match.sniHosts', bad: 'an SNI host outside the hosts', spec: 'hosts: [a.example.com]\ntls: [{ match: [{ sniHosts: [b.example.com] }], route: [{ destination: { host: a.example.com } }] }]', errors: ['spec.tls[0].match[0].sniHosts[0]: SNI host "b.example.com" is not one of the virtual service\'s hosts (a.example.com)'] },
  { field: 'tls.route', bad: 'a TLS route without destinations', spec: 'hosts: [a.example.com]\ntls: [{ match: [{ sniHosts: [a.example.com] }] }]', errors: ['spec.tls[0].route: is required'] },
  { field: 'tls.route.weight', bad: 'weights not summing to 100', spec: 'hosts: [a.example.com]\ntls: [{ match: [{ sniHosts: [a.example.com] }], route: [{ destination: { host: a.example.com, subset: v1 }, weight: 50 }, { destination: { host: a.example.com, subset: v2 }, weight: 10 }] }]', errors: ['spec.tls[0].route: weights must sum to 100 when a route has more than one destination (they sum to 60)'] },
  { field: 'tcp.route', bad: 'an empty destination list', spec: 'hosts: [db]\ntcp: [{ route: [] }]', errors: ['spec.tcp[0].route: must not be empty'] },
  { field: 'tcp.route.weight', bad: 'weights not summing to 100', spec: 'hosts: [db]\ntcp: [{ route: [{ destination: { host: db, subset: a }, weight: 10 }, { destination: { host: db, subset: b }, weight: 10 }] }]', errors: ['spec.tcp[0].route: weights must sum to 100 when a route has more than one destination (they sum to 20)'] },
  { field: 'tcp.match.destinationSubnets', bad: 'an invalid CIDR block', spec: 'hosts: [db]\ntcp: [{ match: [{ destinationSubnets: [10.0.0.0/33] }], route: [{ destination: { host: db } }] }]', errors: ['spec.tcp[0].match[0].destinationSubnets[0]: "10.0.0.0/33" is not a valid IP address or CIDR block'] },
  { field: 'tcp.match.port', bad: 'port 0', spec: 'hosts: [db]\ntcp: [{ match: [{ port: 0 }], route: [{ destination: { host: db } }] }]', errors: ['spec.tcp[0].match[0].port: must be an integer 1..65535'] },
  { field: 'tcp.match.sourceLabels', bad: 'an invalid label value', spec: 'hosts: [db]\ntcp: [{ match: [{ sourceLabels: { app: "a b" } }], route: [{ destination: { host: db } }] }]', errors: ['spec.tcp[0].match[0].sourceLabels.app: invalid label value "a b" (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)'] },
]);

acceptTable('VirtualService', [
  { field: 'hosts', good: 'no hosts (a delegate VirtualService)', spec: `http:\n- match: [{ uri: { prefix: /reviews } }]\n  ${toReviews}` },
  { field: 'http.delegate', good: 'a delegate with a directResponse the delegate rules inherit', spec: vsRule('delegate: { name: reviews-routes, namespace: prod }\ndirectResponse: { status: 503 }') },
  { field: 'http.delegate', good: 'a delegate with rewrite, timeout, retries and headers to inherit', spec: vsRule('delegate: { name: reviews-routes }\nrewrite: { uri: /v2 }\ntimeout: 5s\nretries: { attempts: 3 }\nheaders: { request: { set: { x-a: b } } }') },
  { field: 'http.match.withoutHeaders', good: 'regex "*" (the header is present)', spec: vsMatch('{ withoutHeaders: { x-debug: { regex: "*" } } }') },
  { field: 'http.match.uri', good: 'an empty prefix', spec: vsMatch('{ uri: { prefix: "" } }') },
  { field: 'http.match.headers', good: 'a JWT claim on a gateway VirtualService', spec: `hosts: [reviews.example.com]\ngateways: [bookinfo-gateway]\nhttp:\n- match: [{ headers: { "@request.auth.claims[groups]": { exact: admin } } }]\n  ${toReviews}` },
  { field: 'http.mirrorPercentage', good: 'a percentage below 0.0001 (no floor for mirrors)', spec: vsRule(`mirror: { host: reviews-shadow }\nmirrorPercentage: { value: 0.00001 }\n${toReviews}`) },
  { field: 'http.fault.delay', good: 'a delay without fixedDelay', spec: vsRule(`fault: { delay: { percentage: { value: 10 } } }\n${toReviews}`) },
  { field: 'http.fault.abort', good: 'an abort without a status', spec: vsRule(`fault: { abort: { percentage: { value: 10 } } }\n${toReviews}`) },
  { field: 'http.headers', good: 'values with %VARIABLES% and %%', spec: vsRule(`headers: { request: { set: { x-client: "%DOWNSTREAM_REMOTE_ADDRESS%", x-user: "%REQ(x-user)%", x-share: "50%%", x-meta: '%DYNAMIC_METADATA(["a", "b"])%' } } }\n${toReviews}`) },
  { field: 'http.retries.retryOn', good: 'names and known status codes', spec: vsRule(`retries: { attempts: 2, retryOn: "gateway-error,unavailable,429,503" }\n${toReviews}`) },
  { field: 'http.corsPolicy.maxAge', good: 'whole seconds written in minutes', spec: vsRule(`corsPolicy: { maxAge: 2m }\n${toReviews}`) },
  { field: 'http.redirect.prefixRewrite', good: 'a prefix rewrite for prefix matches', spec: vsRule('match: [{ uri: { prefix: /v1 } }, { headers: { x-a: { exact: b } } }]\nredirect: { prefixRewrite: /v2 }') },
  { field: 'hosts', good: 'an IP address', spec: `hosts: [10.0.0.1]\ntcp: [{ route: [{ destination: { host: db } }] }]` },
]);

// A DestinationRule for `reviews` with `trafficPolicy` (YAML).
const drPolicy = (policy: string) => `host: reviews\ntrafficPolicy: ${policy}`;
const drLb = (lb: string) => drPolicy(`{ loadBalancer: ${lb} }`);
const drPool = (pool: string) => drPolicy(`{ connectionPool: ${pool} }`);
const drOutlier = (od: string) => drPolicy(`{ outlierDetection: ${od} }`);
const TP = 'spec.trafficPolicy';
const LB = `${TP}.loadBalancer`;

rejectTable('DestinationRule', [
  // host
  { field: 'host', bad: 'a missing host', spec: 'subsets: [{ name: v1 }]', errors: ['spec.host: is required'] },
  { field: 'host', bad: 'an empty host', spec: 'host: ""', errors: ['spec.host: must not be empty'] },
  { field: 'host', bad: 'an IP address', spec: 'host: 10.1.2.3', errors: ['spec.host: "10.1.2.3" is an IP address; name the service by its host name'] },
  { field: 'host', bad: 'an empty label', spec: 'host: reviews..svc', errors: ['spec.host: "reviews..svc" is not a valid host name (label "" is invalid)'] },
  { field: 'host', bad: 'a wildcard in the middle', spec: 'host: "reviews.*.svc.cluster.local"', errors: ['spec.host: "reviews.*.svc.cluster.local" is not a valid host name (label "*" is invalid)'] },
  // subsets
  { field: 'subsets.name', bad: 'a duplicate name', spec: 'host: reviews\nsubsets: [{ name: v1, labels: { version: v1 } }, { name: v1, labels: { version: v2 } }]', errors: ['spec.subsets[1].name: duplicate subset name "v1"'] },
  { field: 'subsets.name', bad: 'a missing name', spec: 'host: reviews\nsubsets: [{ labels: { version: v1 } }]', errors: ['spec.subsets[0].name: is required'] },
  { field: 'subsets.name', bad: 'a name with a dot', spec: 'host: reviews\nsubsets: [{ name: v1.0 }]', errors: ['spec.subsets[0].name: subset name "v1.0" is not a valid DNS label'] },
  { field: 'subsets.labels', bad: 'a wildcard value', spec: 'host: reviews\nsubsets: [{ name: v1, labels: { version: "*" } }]', errors: ['spec.subsets[0].labels.version: invalid label value "*" (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)'] },
  { field: 'subsets.labels', bad: 'an invalid key', spec: 'host: reviews\nsubsets: [{ name: v1, labels: { "a/b/c": x } }]', errors: ['spec.subsets[0].labels["a/b/c"]: invalid label key "a/b/c"'] },
  { field: 'subsets.trafficPolicy', bad: 'an empty policy', spec: 'host: reviews\nsubsets: [{ name: v1, trafficPolicy: {} }]', errors: ['spec.subsets[0].trafficPolicy: a traffic policy must set at least one of loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol, retryBudget'] },
  // trafficPolicy.loadBalancer
  { field: 'trafficPolicy.loadBalancer', bad: 'simple and consistentHash together', spec: drLb('{ simple: RANDOM, consistentHash: { useSourceIp: true } }'), errors: [`${LB}: only one of simple, consistentHash may be set (found simple and consistentHash)`] },
  { field: 'trafficPolicy.loadBalancer.simple', bad: 'an unknown algorithm', spec: drLb('{ simple: FASTEST }'), errors: [`${LB}.simple: must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST (got "FASTEST")`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash', bad: 'two hash keys', spec: drLb('{ consistentHash: { httpHeaderName: x-user, httpQueryParameterName: user } }'), errors: [`${LB}.consistentHash: only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName may be set (found httpHeaderName and httpQueryParameterName)`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash', bad: 'ringHash and maglev together', spec: drLb('{ consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 1024 }, maglev: { tableSize: 65537 } } }'), errors: [`${LB}.consistentHash: only one of ringHash, maglev, minimumRingSize may be set (found ringHash and maglev)`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.ringHash.minimumRingSize', bad: 'a negative size', spec: drLb('{ consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: -1 } } }'), errors: [`${LB}.consistentHash.ringHash.minimumRingSize: must be an integer 0..9007199254740991`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', bad: 'a size that is not prime', spec: drLb('{ consistentHash: { useSourceIp: true, maglev: { tableSize: 1000 } } }'), errors: [`${LB}.consistentHash.maglev.tableSize: must be a prime number`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', bad: 'a size of 5000011 or more', spec: drLb('{ consistentHash: { useSourceIp: true, maglev: { tableSize: 5000011 } } }'), errors: [`${LB}.consistentHash.maglev.tableSize: must be an integer 1..5000010`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.httpCookie', bad: 'a cookie without a name', spec: drLb('{ consistentHash: { httpCookie: { ttl: 10s } } }'), errors: [`${LB}.consistentHash.httpCookie.name: is required`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.httpCookie.name', bad: 'an empty name', spec: drLb('{ consistentHash: { httpCookie: { name: "" } } }'), errors: [`${LB}.consistentHash.httpCookie.name: must not be empty`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl', bad: 'a negative duration', spec: drLb('{ consistentHash: { httpCookie: { name: user, ttl: -1s } } }'), errors: [`${LB}.consistentHash.httpCookie.ttl: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "-1s")`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes', bad: 'a duplicate attribute', spec: drLb('{ consistentHash: { httpCookie: { name: user, attributes: [{ name: SameSite, value: Lax }, { name: SameSite, value: Strict }] } } }'), errors: [`${LB}.consistentHash.httpCookie.attributes[1].name: duplicate cookie attribute name "SameSite"`] },
  { field: 'trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes', bad: 'an attribute without a name', spec: drLb('{ consistentHash: { httpCookie: { name: user, attributes: [{ name: "" }] } } }'), errors: [`${LB}.consistentHash.httpCookie.attributes[0].name: must not be empty`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting', bad: 'failover and distribute together', spec: drLb('{ localityLbSetting: { failover: [{ from: us-east, to: us-west }], distribute: [{ from: "us-east/*", to: { "us-east/*": 100 } }] } }'), errors: [`${LB}.localityLbSetting: distribute and failover cannot both be set`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.distribute', bad: 'weights not summing to 100', spec: drLb('{ localityLbSetting: { distribute: [{ from: "us-west/zone1/*", to: { "us-west/zone1/*": 80, "us-west/zone2/*": 10 } }] } }'), errors: [`${LB}.localityLbSetting.distribute[0].to: locality weights must sum to 100 (they sum to 90)`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.distribute', bad: 'a weight of 0', spec: drLb('{ localityLbSetting: { distribute: [{ from: "us-west/*", to: { "us-west/*": 100, "us-east/*": 0 } }] } }'), errors: [`${LB}.localityLbSetting.distribute[0].to["us-east/*"]: must be an integer 1..100`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.distribute', bad: 'a wildcard before the end', spec: drLb('{ localityLbSetting: { distribute: [{ from: "us-west/*/rack1", to: { "us-west/*": 100 } }] } }'), errors: [`${LB}.localityLbSetting.distribute[0].from: locality "us-west/*/rack1": a wildcard "*" may appear once, at the end`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.distribute', bad: 'overlapping target localities', spec: drLb('{ localityLbSetting: { distribute: [{ from: "us-west/*", to: { "us-west/*": 50, "us-west/zone1": 50 } }] } }'), errors: [`${LB}.localityLbSetting.distribute[0].to["us-west/zone1"]: locality "us-west/zone1" overlaps "us-west/*"`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.distribute', bad: 'an empty zone', spec: drLb('{ localityLbSetting: { distribute: [{ from: "us-west//rack1", to: { "us-west": 100 } }] } }'), errors: [`${LB}.localityLbSetting.distribute[0].from: locality "us-west//rack1" has an empty region, zone or subzone`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.failover', bad: 'from equal to to', spec: drLb('{ localityLbSetting: { failover: [{ from: us-east, to: us-east }] } }'), errors: [`${LB}.localityLbSetting.failover[0]: from and to must be different regions`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.failover', bad: 'a zone instead of a region', spec: drLb('{ localityLbSetting: { failover: [{ from: us-east/zone1, to: us-west }] } }'), errors: [`${LB}.localityLbSetting.failover[0]: failover names regions only (no "/" or "*")`] },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.failoverPriority', bad: 'a topology label together with failover', spec: drLb('{ localityLbSetting: { failover: [{ from: us-east, to: us-west }], failoverPriority: [topology.kubernetes.io/zone] } }'), errors: [`${LB}.localityLbSetting.failoverPriority[0]: topology label "topology.kubernetes.io/zone" cannot be used together with failover`] },
  { field: 'trafficPolicy.loadBalancer.zoneAwareLbSetting', bad: 'zone-aware and locality settings together', spec: drLb('{ localityLbSetting: { enabled: true }, zoneAwareLbSetting: { enabled: true } }'), errors: [`${LB}: only one of localityLbSetting, zoneAwareLbSetting may be set (found localityLbSetting and zoneAwareLbSetting)`] },
  { field: 'trafficPolicy.loadBalancer.zoneAwareLbSetting.minClusterSize', bad: 'a size of 0', spec: drLb('{ zoneAwareLbSetting: { minClusterSize: 0 } }'), errors: [`${LB}.zoneAwareLbSetting.minClusterSize: must be an integer 1..9007199254740991`] },
  { field: 'trafficPolicy.loadBalancer.zoneAwareLbSetting.failoverPriority', bad: 'a topology label', spec: drLb('{ zoneAwareLbSetting: { failoverPriority: [topology.kubernetes.io/region] } }'), errors: [`${LB}.zoneAwareLbSetting.failoverPriority[0]: topology label "topology.kubernetes.io/region" is not allowed: zone-aware balancing already orders endpoints by region, zone and subzone`] },
  { field: 'trafficPolicy.loadBalancer.warmupDurationSecs', bad: 'a negative duration', spec: drLb('{ warmupDurationSecs: -10s }'), errors: [`${LB}.warmupDurationSecs: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "-10s")`] },
  { field: 'trafficPolicy.loadBalancer.warmupDurationSecs', bad: 'warmupDurationSecs and warmup together', spec: drLb('{ warmupDurationSecs: 10s, warmup: { duration: 10s } }'), errors: [`${LB}: only one of warmupDurationSecs, warmup may be set (found warmupDurationSecs and warmup)`] },
  { field: 'trafficPolicy.loadBalancer.warmup.duration', bad: 'a missing duration', spec: drLb('{ warmup: { minimumPercent: 10 } }'), errors: [`${LB}.warmup.duration: is required`] },
  { field: 'trafficPolicy.loadBalancer.warmup.minimumPercent', bad: 'a percentage over 100', spec: drLb('{ warmup: { duration: 30s, minimumPercent: 101 } }'), errors: [`${LB}.warmup.minimumPercent: must be a number 0..100`] },
  { field: 'trafficPolicy.loadBalancer.warmup.aggression', bad: 'an aggression of 0', spec: drLb('{ warmup: { duration: 30s, aggression: 0 } }'), errors: [`${LB}.warmup.aggression: must be greater than 0`] },
  // trafficPolicy.connectionPool
  { field: 'trafficPolicy.connectionPool', bad: 'an empty pool', spec: drPool('{}'), errors: [`${TP}.connectionPool: a connection pool must set tcp, http or both`] },
  { field: 'trafficPolicy.connectionPool.tcp.maxConnections', bad: 'a negative value', spec: drPool('{ tcp: { maxConnections: -1 } }'), errors: [`${TP}.connectionPool.tcp.maxConnections: must be an integer 0..2147483647`] },
  { field: 'trafficPolicy.connectionPool.tcp.connectTimeout', bad: 'a zero timeout', spec: drPool('{ tcp: { connectTimeout: 0s } }'), errors: [`${TP}.connectionPool.tcp.connectTimeout: must be at least 1ms`] },
  { field: 'trafficPolicy.connectionPool.tcp.idleTimeout', bad: 'a malformed duration', spec: drPool('{ tcp: { idleTimeout: 1 hour } }'), errors: [`${TP}.connectionPool.tcp.idleTimeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "1 hour")`] },
  { field: 'trafficPolicy.connectionPool.tcp.tcpKeepalive.time', bad: 'a duration finer than 1ms', spec: drPool('{ tcp: { tcpKeepalive: { time: 1500us } } }'), errors: [`${TP}.connectionPool.tcp.tcpKeepalive.time: must be a whole number of milliseconds (got "1500us"; Istio supports millisecond precision)`] },
  { field: 'trafficPolicy.connectionPool.tcp.tcpKeepalive.probes', bad: 'a negative count', spec: drPool('{ tcp: { tcpKeepalive: { probes: -1 } } }'), errors: [`${TP}.connectionPool.tcp.tcpKeepalive.probes: must be an integer 0..4294967295`] },
  { field: 'trafficPolicy.connectionPool.http.http1MaxPendingRequests', bad: 'a negative value', spec: drPool('{ http: { http1MaxPendingRequests: -5 } }'), errors: [`${TP}.connectionPool.http.http1MaxPendingRequests: must be an integer 0..2147483647`] },
  { field: 'trafficPolicy.connectionPool.http.http2MaxRequests', bad: 'a fractional value', spec: drPool('{ http: { http2MaxRequests: 1.5 } }'), errors: [`${TP}.connectionPool.http.http2MaxRequests: must be an integer 0..2147483647`] },
  { field: 'trafficPolicy.connectionPool.http.maxRetries', bad: 'a negative value', spec: drPool('{ http: { maxRetries: -1 } }'), errors: [`${TP}.connectionPool.http.maxRetries: must be an integer 0..2147483647`] },
  { field: 'trafficPolicy.connectionPool.http.idleTimeout', bad: 'a malformed duration', spec: drPool('{ http: { idleTimeout: soon } }'), errors: [`${TP}.connectionPool.http.idleTimeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "soon")`] },
  { field: 'trafficPolicy.connectionPool.http.h2UpgradePolicy', bad: 'an unknown policy', spec: drPool('{ http: { h2UpgradePolicy: ALWAYS } }'), errors: [`${TP}.connectionPool.http.h2UpgradePolicy: must be one of DEFAULT, DO_NOT_UPGRADE, UPGRADE (got "ALWAYS")`] },
  { field: 'trafficPolicy.connectionPool.http.useClientProtocol', bad: 'true together with UPGRADE', spec: drPool('{ http: { h2UpgradePolicy: UPGRADE, useClientProtocol: true } }'), errors: [`${TP}.connectionPool.http: useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE`] },
  { field: 'trafficPolicy.connectionPool.http.http2KeepAlive', bad: 'a keepalive without timeout', spec: drPool('{ http: { http2KeepAlive: { interval: 10s } } }'), errors: [`${TP}.connectionPool.http.http2KeepAlive.timeout: is required`] },
  // trafficPolicy.outlierDetection
  { field: 'trafficPolicy.outlierDetection.maxEjectionPercent', bad: 'a percentage over 100', spec: drOutlier('{ maxEjectionPercent: 101 }'), errors: [`${TP}.outlierDetection.maxEjectionPercent: must be an integer 0..100`] },
  { field: 'trafficPolicy.outlierDetection.minHealthPercent', bad: 'a negative percentage', spec: drOutlier('{ minHealthPercent: -1 }'), errors: [`${TP}.outlierDetection.minHealthPercent: must be an integer 0..100`] },
  { field: 'trafficPolicy.outlierDetection.interval', bad: 'an interval below 1ms', spec: drOutlier('{ interval: 500us }'), errors: [`${TP}.outlierDetection.interval: must be at least 1ms`] },
  { field: 'trafficPolicy.outlierDetection.baseEjectionTime', bad: 'a malformed duration', spec: drOutlier('{ baseEjectionTime: 30 }'), errors: [`${TP}.outlierDetection.baseEjectionTime: must be a duration like 1s, 0.5s, 100ms, 1m or 1h`] },
  { field: 'trafficPolicy.outlierDetection.consecutive5xxErrors', bad: 'a negative count', spec: drOutlier('{ consecutive5xxErrors: -1 }'), errors: [`${TP}.outlierDetection.consecutive5xxErrors: must be an integer 0..4294967295`] },
  { field: 'trafficPolicy.outlierDetection.consecutiveGatewayErrors', bad: 'a count over 2^32-1', spec: drOutlier('{ consecutiveGatewayErrors: 4294967296 }'), errors: [`${TP}.outlierDetection.consecutiveGatewayErrors: must be an integer 0..4294967295`] },
  { field: 'trafficPolicy.outlierDetection.consecutiveLocalOriginFailures', bad: 'a count without splitExternalLocalOriginErrors', spec: drOutlier('{ consecutiveLocalOriginFailures: 3 }'), errors: [`${TP}.outlierDetection.consecutiveLocalOriginFailures: has no effect unless splitExternalLocalOriginErrors is true`] },
  { field: 'trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes', bad: 'a code over 599', spec: drOutlier('{ outlierDetectionHttpErrorCodes: [503, 600] }'), errors: [`${TP}.outlierDetection.outlierDetectionHttpErrorCodes[1]: must be an integer 100..599`] },
  // trafficPolicy.portLevelSettings
  { field: 'trafficPolicy.portLevelSettings.port', bad: 'a missing port', spec: drPolicy('{ portLevelSettings: [{ loadBalancer: { simple: RANDOM } }] }'), errors: [`${TP}.portLevelSettings[0].port: is required`] },
  { field: 'trafficPolicy.portLevelSettings.port', bad: 'port 0', spec: drPolicy('{ portLevelSettings: [{ port: { number: 0 }, loadBalancer: { simple: RANDOM } }] }'), errors: [`${TP}.portLevelSettings[0].port.number: must be an integer 1..65535`] },
  { field: 'trafficPolicy.portLevelSettings', bad: 'a port policy that sets nothing', spec: drPolicy('{ portLevelSettings: [{ port: { number: 9080 } }] }'), errors: [`${TP}.portLevelSettings[0]: a port traffic policy must set at least one of loadBalancer, connectionPool, outlierDetection, tls`] },
  { field: 'trafficPolicy.portLevelSettings.connectionPool', bad: 'a negative value in a port policy', spec: drPolicy('{ portLevelSettings: [{ port: { number: 9080 }, connectionPool: { tcp: { maxConnections: -2 } } }] }'), errors: [`${TP}.portLevelSettings[0].connectionPool.tcp.maxConnections: must be an integer 0..2147483647`] },
  // trafficPolicy.tls
  { field: 'trafficPolicy.tls.mode', bad: 'an unknown mode', spec: drPolicy('{ tls: { mode: STRICT } }'), errors: [`${TP}.tls.mode: must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL (got "STRICT")`] },
  { field: 'trafficPolicy.tls', bad: 'MUTUAL without a client certificate', spec: drPolicy('{ tls: { mode: MUTUAL, privateKey: /etc/key.pem } }'), errors: [`${TP}.tls.clientCertificate: is required for MUTUAL TLS (or set credentialName)`] },
  { field: 'trafficPolicy.tls.credentialName', bad: 'a credentialName with certificate files', spec: drPolicy('{ tls: { mode: SIMPLE, credentialName: client-cert, caCertificates: /etc/ca.pem } }'), errors: [`${TP}.tls: clientCertificate, privateKey, caCertificates and caCrl cannot be set when credentialName is set`] },
  { field: 'trafficPolicy.tls.insecureSkipVerify', bad: 'skipping verification with a CA', spec: drPolicy('{ tls: { mode: SIMPLE, insecureSkipVerify: true, caCertificates: /etc/ca.pem } }'), errors: [`${TP}.tls: caCertificates, credentialName and subjectAltNames cannot be set when insecureSkipVerify is true`] },
  // trafficPolicy.tunnel, proxyProtocol, retryBudget
  { field: 'trafficPolicy.tunnel.protocol', bad: 'an unknown protocol', spec: drPolicy('{ tunnel: { protocol: GET, targetHost: egress.example.com, targetPort: 443 } }'), errors: [`${TP}.tunnel.protocol: must be "CONNECT" or "POST"`] },
  { field: 'trafficPolicy.tunnel.targetPort', bad: 'a missing port', spec: drPolicy('{ tunnel: { targetHost: egress.example.com } }'), errors: [`${TP}.tunnel.targetPort: is required`] },
  { field: 'trafficPolicy.tunnel', bad: 'a tunnel with the PROXY protocol', spec: drPolicy('{ tunnel: { targetHost: egress.example.com, targetPort: 443 }, proxyProtocol: { version: V2 } }'), errors: [`${TP}: only one of tunnel, proxyProtocol may be set (found tunnel and proxyProtocol)`] },
  { field: 'trafficPolicy.proxyProtocol.version', bad: 'an unknown version', spec: drPolicy('{ proxyProtocol: { version: V3 } }'), errors: [`${TP}.proxyProtocol.version: must be one of V1, V2 (got "V3")`] },
  { field: 'trafficPolicy.retryBudget.percent', bad: 'a percentage over 100', spec: drPolicy('{ retryBudget: { percent: 120 } }'), errors: [`${TP}.retryBudget.percent: must be a number 0..100`] },
  { field: 'trafficPolicy', bad: 'an empty policy', spec: drPolicy('{}'), errors: [`${TP}: a traffic policy must set at least one of loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol, retryBudget`] },
  // workloadSelector, exportTo
  { field: 'workloadSelector.matchLabels', bad: 'a wildcard value', spec: 'host: reviews\nworkloadSelector: { matchLabels: { app: "*" } }', errors: ['spec.workloadSelector.matchLabels.app: invalid label value "*" (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)'] },
  { field: 'workloadSelector.matchLabels', bad: 'an empty key', spec: 'host: reviews\nworkloadSelector: { matchLabels: { "": x } }', errors: ['spec.workloadSelector.matchLabels[""]: invalid label key ""'] },
  { field: 'workloadSelector', bad: 'a selector with exportTo beyond the namespace', spec: 'host: reviews\nworkloadSelector: { matchLabels: { app: productpage } }\nexportTo: ["*"]', errors: ['spec.exportTo: a destination rule with a workloadSelector can only be exported to its own namespace'] },
  { field: 'exportTo', bad: '"~" (ServiceEntry only)', spec: 'host: reviews\nexportTo: ["~"]', errors: ['spec.exportTo[0]: must be ".", "*" or a namespace name (got "~")'] },
  { field: 'exportTo', bad: 'an invalid namespace', spec: 'host: reviews\nexportTo: [Prod]', errors: ['spec.exportTo[0]: must be ".", "*" or a namespace name (got "Prod")'] },
]);

acceptTable('DestinationRule', [
  { field: 'trafficPolicy.portLevelSettings', good: 'two settings for the same port (Istio does not check)', spec: drPolicy('{ portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: RANDOM } }, { port: { number: 80 }, connectionPool: { tcp: { maxConnections: 10 } } }] }') },
  { field: 'trafficPolicy.loadBalancer.warmup.aggression', good: 'an aggression between 0 and 1', spec: drLb('{ warmup: { duration: 30s, aggression: 0.5 } }') },
  { field: 'trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', good: 'a prime table size', spec: drLb('{ consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } }') },
  { field: 'trafficPolicy.connectionPool.tcp.idleTimeout', good: '0s (disables the timeout)', spec: drPool('{ tcp: { idleTimeout: 0s } }') },
  { field: 'trafficPolicy.loadBalancer.localityLbSetting.distribute', good: 'zones of one region, and a region-wide rest', spec: drLb('{ localityLbSetting: { distribute: [{ from: "us-west/zone1/*", to: { "us-west/zone1/*": 80, "us-west/zone2/*": 20 } }, { from: "us-east/*", to: { "us-east/*": 100 } }] } }') },
  { field: 'host', good: 'a wildcard host', spec: 'host: "*.svc.cluster.local"\ntrafficPolicy: { tls: { mode: ISTIO_MUTUAL } }' },
]);
