// MeshConfig.extensionProviders: named external services the mesh can call (an external
// authorizer for CUSTOM authorization policies, tracers, access log sinks, ...). Weft acts on
// envoyExtAuthzHttp, zipkin, opentelemetry, envoyFileAccessLog and prometheus, so they are checked
// field by field as Istio does (ValidateExtensionProvider*; mesh-telemetry-providers.ts); the other
// kinds are kept as written and checked loosely, so existing mesh configs load.

import {
  array, boolean, duration, integer, isPlainObject, map, object, report, string, UINT32_MAX,
  type Context, type Problem, type Schema,
} from './schema.ts';
import { reportDuplicates as reportDuplicateNames } from './kinds/common.ts';
import { portNumberOf, providerPort, providerServiceProblem } from './mesh-provider-fields.ts';
import { TELEMETRY_PROVIDER_SCHEMAS } from './mesh-telemetry-providers.ts';
import type { EnvoyExternalAuthorizationHttpProvider, ExtensionProvider, OtherExtensionProviderConfig } from './kinds/security-types.ts';

export { portNumberOf, providerPort, providerServiceProblem } from './mesh-provider-fields.ts';

/** The provider kinds of Istio's ExtensionProvider oneof, other than envoyExtAuthzHttp. */
export const OTHER_PROVIDER_KINDS = [
  'envoyExtAuthzGrpc', 'zipkin', 'lightstep', 'datadog', 'stackdriver', 'opencensus', 'skywalking', 'opentelemetry',
  'prometheus', 'envoyFileAccessLog', 'envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls', 'sds',
] as const satisfies readonly (keyof ExtensionProvider)[];

// Kinds that name a service to call, and so need a service and a port.
const SERVICE_KINDS: ReadonlySet<string> = new Set([
  'envoyExtAuthzGrpc', 'zipkin', 'lightstep', 'datadog', 'opencensus', 'skywalking', 'opentelemetry',
  'envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls',
]);

// Envoy's StatusCode enum: the HTTP statuses an external authorizer error may be answered with.
const ENVOY_STATUS_CODES = new Set([
  100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404,
  405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502,
  503, 504, 505, 506, 507, 508, 510, 511,
]);

/** statusOnError: an HTTP status Envoy knows, as a string (Istio's type) or, leniently, a number. */
const statusOnError: Schema<string> = {
  expected: 'an HTTP status code such as "503"', plural: 'HTTP status codes',
  validate(value, path, ctx) {
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string') return report(ctx, 'WEFT_E_WRONG_TYPE', path, `must be ${this.expected}`);
    if (!/^\d+$/.test(text) || !ENVOY_STATUS_CODES.has(Number(text))) {
      report(ctx, 'WEFT_E_INVALID_VALUE', path, `"${text}" is not an HTTP status code Envoy supports (e.g. "403", "503")`);
    }
  },
};

const nonEmpty = (s: string): Problem => (s === '' ? 'must not be empty' : undefined);
const headerList = () => array(string({ check: nonEmpty }));

const envoyExtAuthzHttp: Schema<EnvoyExternalAuthorizationHttpProvider> = object<EnvoyExternalAuthorizationHttpProvider>({
  service: string({ check: providerServiceProblem }),
  port: providerPort,
  timeout: duration(),
  pathPrefix: string({ check: (p) => (p === '' || p.startsWith('/') ? undefined : `must begin with "/" (got "${p}")`) }),
  failOpen: boolean(),
  statusOnError,
  clearRouteCache: boolean(),
  includeHeadersInCheck: headerList(),
  includeRequestHeadersInCheck: headerList(),
  includeAdditionalHeadersInCheck: map(string(), { key: nonEmpty }),
  headersToUpstreamOnAllow: headerList(),
  headersToDownstreamOnDeny: headerList(),
  headersToDownstreamOnAllow: headerList(),
  includeRequestBodyInCheck: object<NonNullable<EnvoyExternalAuthorizationHttpProvider['includeRequestBodyInCheck']>>({
    maxRequestBytes: integer({ min: 0, max: UINT32_MAX }),
    allowPartialMessage: boolean(),
    packAsBytes: boolean(),
  }),
}, { required: ['service', 'port'] });

const otherProvider: Schema<OtherExtensionProviderConfig> = {
  expected: 'an object', plural: 'objects',
  validate(value, path, ctx) {
    if (!isPlainObject(value)) report(ctx, 'WEFT_E_WRONG_TYPE', path, 'must be an object');
  },
};

const providerFields = {
  name: string({ check: nonEmpty }),
  envoyExtAuthzHttp,
  ...Object.fromEntries(OTHER_PROVIDER_KINDS.map((k) => [k, otherProvider])),
  ...TELEMETRY_PROVIDER_SCHEMAS,
} as unknown as { [K in keyof ExtensionProvider]-?: Schema<NonNullable<ExtensionProvider[K]>> };

const ALL_KINDS = ['envoyExtAuthzHttp', ...OTHER_PROVIDER_KINDS] as const;

export const extensionProvider: Schema<ExtensionProvider> = object<ExtensionProvider>(providerFields, {
  required: ['name'],
  oneOf: [ALL_KINDS],
  check(p, path, ctx) {
    if (!ALL_KINDS.some((k) => p[k] !== undefined)) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, `extension provider "${p.name}" must set one provider kind (${ALL_KINDS.join(', ')})`);
    }
  },
});

const providerList = array(extensionProvider);

/** The list, with names unique (Istio refers to a provider by name). */
export const extensionProviders: Schema<ExtensionProvider[]> = {
  expected: providerList.expected, plural: providerList.plural,
  validate(value, path, ctx: Context) {
    providerList.validate(value, path, ctx);
    if (!Array.isArray(value)) return;
    const names = value.map((p) => (isPlainObject(p) && typeof p.name === 'string' && p.name !== '' ? p.name : undefined));
    reportDuplicateNames(ctx, path, names, 'extension provider name', '.name');
  },
};

/** Loose checks of the provider kinds Weft does not act on: warnings, as Istio gives for them. */
export function otherProviderWarnings(providers: readonly ExtensionProvider[], path: string): string[] {
  const warnings: string[] = [];
  providers.forEach((p, i) => {
    for (const kind of OTHER_PROVIDER_KINDS) {
      const config = p[kind];
      if (config === undefined || !SERVICE_KINDS.has(kind) || Object.hasOwn(TELEMETRY_PROVIDER_SCHEMAS, kind)) continue;
      const at = `${path}[${i}].${kind}`;
      const service = typeof config.service === 'string' ? providerServiceProblem(config.service) : 'is required';
      if (service !== undefined) warnings.push(`${at}.service: ${service} (extension provider "${p.name}" cannot be used)`);
      if (portNumberOf(config.port) === undefined) {
        warnings.push(`${at}.port: must be a port number 1..65535 (extension provider "${p.name}" cannot be used)`);
      }
    }
  });
  return warnings;
}
