// A compiled RouteConfiguration and its matching: the "logical" layer of the outbound path (DESIGN.md
// habit 6). Everything is computed at config time (lower-cased domains grouped by wildcard length,
// compiled regexes, cumulative weights); per request only the host is lower-cased and the query string
// cut off for path matching.
import type { HashPolicy } from './hash-policy.ts';
import type { HeaderMatcher, RequestView } from './header-matcher.ts';
import type { HeaderMutations } from './header-mutation.ts';
import type { MirrorPolicy } from './mirror-policy.ts';
import type { Redirect } from './redirect.ts';
import type { RegexRewrite } from './regex-rewrite.ts';
import type { QueryParameterMatcher } from './query-parameter-matcher.ts';
import type { RetryPolicy } from './retry-policy.ts';

export const PathMatch = { Prefix: 0, Exact: 1, Regex: 2 } as const;
export type PathMatch = (typeof PathMatch)[keyof typeof PathMatch];

export class WeightedClusters {
  readonly names: readonly string[];
  /** cumulative[i] = sum of the weights of names[0..i]. */
  readonly cumulative: Float64Array;
  readonly total: number;
  /**
   * Per cluster: the header mutations of the request / response when it is chosen (the cluster's own
   * level, then its route's chain; see header-mutation.ts), null when none.
   */
  readonly requestMutations: readonly (HeaderMutations | null)[];
  readonly responseMutations: readonly (HeaderMutations | null)[];

  constructor(names: string[], weights: number[], total: number, requestMutations: (HeaderMutations | null)[],
    responseMutations: (HeaderMutations | null)[]) {
    this.names = names;
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) this.cumulative[i] = sum += weights[i];
    this.total = total;
    this.requestMutations = requestMutations;
    this.responseMutations = responseMutations;
  }

  /** The index of a cluster chosen at random in proportion to its weight (Envoy: random % total_weight). */
  pickIndex(): number {
    const r = Math.floor(Math.random() * this.total);
    const c = this.cumulative;
    for (let i = 0; i < c.length; i++) if (r < c[i]) return i;
    return c.length - 1;
  }

  pick(): string {
    return this.names[this.pickIndex()];
  }
}

export class RouteAction {
  /** The cluster, or '' when weighted. */
  readonly cluster: string;
  readonly weighted: WeightedClusters | null;
  /** 0: no timeout. */
  readonly timeoutMs: number;
  readonly prefixRewrite: string | null;
  /** regex_rewrite (exclusive with prefixRewrite). */
  readonly regexRewrite: RegexRewrite | null;
  readonly hostRewrite: string | null;
  readonly clusterNotFoundStatus: number;
  /** null: no retries and no per-try timeout (the router's plain path). */
  readonly retryPolicy: RetryPolicy | null;
  /** The policy's per_try_timeout, or 0 when it is not below the route timeout (Envoy then ignores it). */
  readonly perTryTimeoutMs: number;
  /** request_mirror_policies; null: none (the router then does no mirroring work at all). */
  readonly mirrorPolicies: readonly MirrorPolicy[] | null;
  /** hash_policy; null: none (consistent-hash clusters then pick at random). */
  readonly hashPolicy: HashPolicy | null;

  constructor(cluster: string, weighted: WeightedClusters | null, timeoutMs: number, prefixRewrite: string | null,
    regexRewrite: RegexRewrite | null, hostRewrite: string | null, clusterNotFoundStatus: number, retryPolicy: RetryPolicy | null,
    mirrorPolicies: readonly MirrorPolicy[] | null = null, hashPolicy: HashPolicy | null = null) {
    this.cluster = cluster;
    this.weighted = weighted;
    this.timeoutMs = timeoutMs;
    this.prefixRewrite = prefixRewrite;
    this.regexRewrite = regexRewrite;
    this.hostRewrite = hostRewrite;
    this.clusterNotFoundStatus = clusterNotFoundStatus;
    this.retryPolicy = retryPolicy;
    const perTry = retryPolicy?.perTryTimeoutMs ?? 0;
    this.perTryTimeoutMs = timeoutMs > 0 && perTry >= timeoutMs ? 0 : perTry;
    this.mirrorPolicies = mirrorPolicies;
    this.hashPolicy = hashPolicy;
  }

  clusterName(): string {
    return this.weighted === null ? this.cluster : this.weighted.pick();
  }
}

export class DirectResponse {
  readonly status: number;
  readonly body: Buffer | null;

  constructor(status: number, body: Buffer | null) {
    this.status = status;
    this.body = body;
  }
}

export class Route {
  readonly name: string;
  readonly virtualHostName: string;
  readonly pathMatch: PathMatch;
  /** The prefix or path, lower-cased when matching is case-insensitive. */
  readonly pathValue: string;
  readonly caseSensitive: boolean;
  readonly regex: RegExp | null;
  readonly headers: readonly HeaderMatcher[];
  readonly queryParameters: readonly QueryParameterMatcher[];
  /** Exactly one of action, directResponse and redirect is set. */
  readonly action: RouteAction | null;
  readonly directResponse: DirectResponse | null;
  readonly redirect: Redirect | null;
  /**
   * The header mutations of the route, its virtual host and its route configuration, in Envoy's order
   * (header-mutation.ts); null when none. With weighted clusters the router uses the chosen cluster's.
   */
  readonly requestMutations: HeaderMutations | null;
  readonly responseMutations: HeaderMutations | null;
  /**
   * typed_per_filter_config by filter name (the name in the connection manager's http_filters), each
   * compiled by its filter's per-route compiler; the virtual host's and route configuration's entries
   * are merged in, the most specific winning. null when none applies (a filter then uses its own config).
   */
  readonly perFilterConfig: ReadonlyMap<string, object> | null;

  constructor(name: string, virtualHostName: string, pathMatch: PathMatch, pathValue: string, caseSensitive: boolean,
    regex: RegExp | null, headers: HeaderMatcher[], queryParameters: QueryParameterMatcher[], action: RouteAction | null, directResponse: DirectResponse | null,
    redirect: Redirect | null, requestMutations: HeaderMutations | null, responseMutations: HeaderMutations | null,
    perFilterConfig: ReadonlyMap<string, object> | null) {
    this.name = name;
    this.virtualHostName = virtualHostName;
    this.pathMatch = pathMatch;
    this.caseSensitive = caseSensitive;
    this.pathValue = caseSensitive ? pathValue : pathValue.toLowerCase();
    this.regex = regex;
    this.headers = headers;
    this.queryParameters = queryParameters;
    this.action = action;
    this.directResponse = directResponse;
    this.redirect = redirect;
    this.requestMutations = requestMutations;
    this.responseMutations = responseMutations;
    this.perFilterConfig = perFilterConfig;
  }

  /** `path` is the request path without its query string. */
  matches(request: RequestView, path: string): boolean {
    switch (this.pathMatch) {
      case PathMatch.Prefix:
        if (this.caseSensitive) {
          if (!path.startsWith(this.pathValue)) return false;
        } else if (path.length < this.pathValue.length || path.slice(0, this.pathValue.length).toLowerCase() !== this.pathValue) {
          return false;
        }
        break;
      case PathMatch.Exact:
        if ((this.caseSensitive ? path : path.toLowerCase()) !== this.pathValue) return false;
        break;
      default:
        if (!this.regex!.test(path)) return false;
    }
    const headers = this.headers;
    for (let i = 0; i < headers.length; i++) if (!headers[i].matches(request)) return false;
    const query = this.queryParameters;
    if (query.length > 0) {
      const full = request.path;
      const q = full.indexOf('?');
      const hash = full.indexOf('#', q + 1);
      const params = new URLSearchParams(q === -1 ? '' : full.slice(q + 1, hash === -1 ? undefined : hash));
      for (let i = 0; i < query.length; i++) if (!query[i].matches(params)) return false;
    }
    return true;
  }

  /**
   * The upstream :path after prefix_rewrite (the matched prefix or path swapped) or regex_rewrite (on
   * the path without its query); the query is kept.
   */
  rewritePath(path: string): string {
    const action = this.action;
    if (action === null) return path;
    if (action.prefixRewrite !== null) return action.prefixRewrite + path.slice(this.pathValue.length);
    if (action.regexRewrite !== null) return action.regexRewrite.rewrite(path);
    return path;
  }
}

export class VirtualHost {
  readonly name: string;
  readonly routes: readonly Route[];

  constructor(name: string, routes: Route[]) {
    this.name = name;
    this.routes = routes;
  }
}

/** Wildcard domains of one length: `*.foo.com` is stored as `.foo.com` in the bucket of length 8. */
export type WildcardBucket = { length: number; domains: Map<string, VirtualHost> };

export class RouteTable {
  readonly name: string;
  readonly exact: Map<string, VirtualHost>;
  /** Longest first, as Envoy tries them. */
  readonly suffixes: readonly WildcardBucket[];
  readonly prefixes: readonly WildcardBucket[];
  readonly defaultHost: VirtualHost | null;
  readonly ignorePort: boolean;
  /** Clusters the routes name (for validate_clusters and diagnostics). */
  readonly clusterNames: ReadonlySet<string>;

  constructor(name: string, exact: Map<string, VirtualHost>, suffixes: WildcardBucket[], prefixes: WildcardBucket[],
    defaultHost: VirtualHost | null, ignorePort: boolean, clusterNames: Set<string>) {
    this.name = name;
    this.exact = exact;
    this.suffixes = suffixes;
    this.prefixes = prefixes;
    this.defaultHost = defaultHost;
    this.ignorePort = ignorePort;
    this.clusterNames = clusterNames;
  }

  /** First matching route of the virtual host chosen by Envoy's domain precedence, or null (NR). */
  route(request: RequestView): Route | null {
    const host = this.findVirtualHost(request.authority);
    if (host === null) return null;
    const full = request.path;
    let q = full.indexOf('?');
    if (q === -1) q = full.indexOf('#');
    const path = q === -1 ? full : full.slice(0, q);
    const routes = host.routes;
    for (let i = 0; i < routes.length; i++) if (routes[i].matches(request, path)) return routes[i];
    return null;
  }

  /** Exact domain > longest suffix wildcard > longest prefix wildcard > `*`. The port is part of the host unless ignore_port_in_host_matching. */
  findVirtualHost(authority: string): VirtualHost | null {
    let host = authority.toLowerCase();
    if (this.ignorePort) host = stripPort(host);
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    for (const bucket of this.suffixes) {
      // `*.foo.com` must not match `.foo.com`: the wildcard stands for at least one character.
      if (bucket.length >= host.length) continue;
      const vh = bucket.domains.get(host.slice(host.length - bucket.length));
      if (vh !== undefined) return vh;
    }
    for (const bucket of this.prefixes) {
      if (bucket.length >= host.length) continue;
      const vh = bucket.domains.get(host.slice(0, bucket.length));
      if (vh !== undefined) return vh;
    }
    return this.defaultHost;
  }
}

function stripPort(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon === -1) return host;
  // [v6]:port, or a name / v4 address with a single colon.
  if (host.charCodeAt(0) === 91 /* [ */) return host.lastIndexOf(']') < colon ? host.slice(0, colon) : host;
  return host.indexOf(':') === colon ? host.slice(0, colon) : host;
}
