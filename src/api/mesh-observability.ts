// The MeshConfig fields for observability that Weft acts on: the mesh-wide access log
// (accessLogFile, accessLogEncoding, accessLogFormat), tracing (enableTracing,
// defaultConfig.tracing.sampling and .zipkin.address) and the default Telemetry providers
// (defaultProviders). Of defaultConfig (Istio's ProxyConfig) only `tracing` is read; its other
// fields load with a warning.

import {
  array, boolean, enumOf, isPlainObject, number, object, report, string, tolerated, type Problem, type Schema,
} from './schema.ts';

export type AccessLogEncoding = 'TEXT' | 'JSON';

/** MeshConfig.defaultProviders: provider names used where no Telemetry names one. */
export interface DefaultProviders {
  tracing?: string[];
  metrics?: string[];
  accessLogging?: string[];
}

/** defaultConfig.tracing, the parts Weft reads. */
export interface ProxyTracingDefaults {
  /** Percent of requests sampled when nothing else says (Istio: a value over 100 means 1). */
  sampling?: number;
  /** `host:port` of a Zipkin collector, used with enableTracing when no provider is named. */
  zipkinAddress?: string;
}

interface ProxyTracingYaml {
  sampling?: number;
  zipkin?: { address?: string };
  customTags?: never; maxPathTagLength?: never; lightstep?: never; datadog?: never; stackdriver?: never;
  openCensusAgent?: never; tlsSettings?: never; enableIstioTags?: never;
}

function hostPortProblem(address: string): Problem {
  const m = /^(.+):(\d+)$/.exec(address);
  if (!m || m[1] === '' || Number(m[2]) < 1 || Number(m[2]) > 65535) return `"${address}" must be host:port with a port 1..65535`;
  return undefined;
}

const proxyTracing: Schema<ProxyTracingYaml> = object<ProxyTracingYaml>({
  sampling: number({ min: 0 }),
  zipkin: object<{ address?: string }>({ address: string({ check: hostPortProblem }) }),
  customTags: tolerated(), maxPathTagLength: tolerated(), lightstep: tolerated(), datadog: tolerated(), stackdriver: tolerated(),
  openCensusAgent: tolerated(), tlsSettings: tolerated(), enableIstioTags: tolerated(),
});

/** defaultConfig: `tracing` is checked; Istio's other ProxyConfig fields are taken as written. */
const defaultConfig: Schema<Record<string, unknown>> = {
  expected: 'an object', plural: 'objects',
  validate(value, path, ctx) {
    if (!isPlainObject(value)) return report(ctx, 'WEFT_E_WRONG_TYPE', path, 'must be an object');
    if (value.tracing !== undefined && value.tracing !== null) proxyTracing.validate(value.tracing, `${path}.tracing`, ctx);
  },
};

const names = () => array(string({ check: (s) => (s === '' ? 'must not be empty' : undefined) }));

export interface ObservabilityYaml {
  accessLogFile?: string;
  accessLogEncoding?: AccessLogEncoding;
  accessLogFormat?: string;
  enableTracing?: boolean;
  defaultConfig?: Record<string, unknown>;
  defaultProviders?: DefaultProviders;
}

export const OBSERVABILITY_FIELDS: { readonly [K in keyof ObservabilityYaml]-?: Schema<NonNullable<ObservabilityYaml[K]>> } = {
  accessLogFile: string(),
  accessLogEncoding: enumOf(['TEXT', 'JSON'] as const),
  accessLogFormat: string(),
  enableTracing: boolean(),
  defaultConfig,
  defaultProviders: object<DefaultProviders>({ tracing: names(), metrics: names(), accessLogging: names() }),
};

/** What the observability fields give the mesh config, read from a validated mesh (bad fields left out by `take`). */
export interface ObservabilitySettings {
  accessLogFile?: string;
  accessLogEncoding?: AccessLogEncoding;
  accessLogFormat?: string;
  enableTracing?: boolean;
  tracing?: ProxyTracingDefaults;
  defaultProviders?: DefaultProviders;
}

export function readObservability(
  take: <K extends keyof ObservabilityYaml>(k: K) => ObservabilityYaml[K] | undefined, warnings: string[],
): ObservabilitySettings {
  const out: ObservabilitySettings = {};
  const file = take('accessLogFile');
  if (file !== undefined && file !== '') out.accessLogFile = file;
  const encoding = take('accessLogEncoding');
  if (encoding !== undefined) out.accessLogEncoding = encoding;
  const format = take('accessLogFormat');
  if (format !== undefined && format !== '') {
    if ((encoding ?? 'TEXT') === 'JSON' && jsonFormatProblem(format) !== undefined) {
      // As Istio: a JSON format that does not parse falls back to the default JSON format.
      warnings.push(`accessLogFormat: ${jsonFormatProblem(format)}; the default JSON format is used`);
    } else {
      out.accessLogFormat = format;
    }
  }
  const enable = take('enableTracing');
  if (enable !== undefined) out.enableTracing = enable;
  const providers = take('defaultProviders');
  if (providers !== undefined) out.defaultProviders = providers;
  const proxy = take('defaultConfig');
  if (proxy !== undefined) {
    for (const k of Object.keys(proxy)) if (k !== 'tracing') warnings.push(`defaultConfig.${k}: not used by Weft`);
    const t = proxy.tracing as ProxyTracingYaml | undefined;
    if (t !== undefined) {
      for (const k of Object.keys(t)) if (k !== 'sampling' && k !== 'zipkin') warnings.push(`defaultConfig.tracing.${k}: not used by Weft`);
      const tracing: ProxyTracingDefaults = {};
      if (t.sampling !== undefined) tracing.sampling = t.sampling;
      if (t.zipkin?.address !== undefined) tracing.zipkinAddress = t.zipkin.address;
      out.tracing = tracing;
    }
  }
  return out;
}

function jsonFormatProblem(format: string): string | undefined {
  try {
    const v: unknown = JSON.parse(format);
    return isPlainObject(v) ? undefined : 'with accessLogEncoding JSON, must be a JSON object of format strings';
  } catch (e) {
    return `with accessLogEncoding JSON, must be a JSON object of format strings (${(e as Error).message})`;
  }
}
