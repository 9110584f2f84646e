// The building blocks of compiled RBAC rules: a Permission or a Principal becomes a tree of small
// matcher objects at config time; a request or connection is checked by walking it. Matchers that
// need HTTP (header, url_path, metadata) never match at L4 (`http` null), as in Envoy's network
// filter, where there are no headers and no stream metadata.
import { metadataMatches, type MetadataMatcher } from '../http/metadata-matcher.ts';
import type { HeaderMatcher, RequestView } from '../http/routing/header-matcher.ts';
import type { StringMatcher } from '../http/routing/string-matcher.ts';
import type { CidrRange } from '../listener/cidr-range.ts';
import type { ConnectionFacts } from './connection-facts.ts';

/** What an HTTP request offers RBAC beyond its connection (HttpStream has all of it). */
export interface RbacHttpRequest extends RequestView {
  readonly dynamicMetadata: Record<string, Record<string, unknown>> | null;
}

export interface RbacMatcher {
  matches(connection: ConnectionFacts, http: RbacHttpRequest | null): boolean;
}

export class AnyMatcher implements RbacMatcher {
  matches(): boolean {
    return true;
  }
}

export const anyMatcher = new AnyMatcher();

export class AndMatcher implements RbacMatcher {
  readonly matchers: readonly RbacMatcher[];

  constructor(matchers: readonly RbacMatcher[]) {
    this.matchers = matchers;
  }

  matches(connection: ConnectionFacts, http: RbacHttpRequest | null): boolean {
    for (const m of this.matchers) if (!m.matches(connection, http)) return false;
    return true;
  }
}

export class OrMatcher implements RbacMatcher {
  readonly matchers: readonly RbacMatcher[];

  constructor(matchers: readonly RbacMatcher[]) {
    this.matchers = matchers;
  }

  matches(connection: ConnectionFacts, http: RbacHttpRequest | null): boolean {
    for (const m of this.matchers) if (m.matches(connection, http)) return true;
    return false;
  }
}

export class NotMatcher implements RbacMatcher {
  readonly matcher: RbacMatcher;

  constructor(matcher: RbacMatcher) {
    this.matcher = matcher;
  }

  matches(connection: ConnectionFacts, http: RbacHttpRequest | null): boolean {
    return !this.matcher.matches(connection, http);
  }
}

export class HeaderRule implements RbacMatcher {
  readonly header: HeaderMatcher;

  constructor(header: HeaderMatcher) {
    this.header = header;
  }

  matches(_connection: ConnectionFacts, http: RbacHttpRequest | null): boolean {
    return http !== null && this.header.matches(http);
  }
}

/** The path without its query string and fragment (Envoy's PathUtil::removeQueryAndFragment). */
export function pathOnly(path: string): string {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return path.slice(0, i);
  }
  return path;
}

export class UrlPathRule implements RbacMatcher {
  readonly path: StringMatcher;

  constructor(path: StringMatcher) {
    this.path = path;
  }

  matches(_connection: ConnectionFacts, http: RbacHttpRequest | null): boolean {
    return http !== null && this.path.match(pathOnly(http.path));
  }
}

export class MetadataRule implements RbacMatcher {
  readonly metadata: MetadataMatcher;

  constructor(metadata: MetadataMatcher) {
    this.metadata = metadata;
  }

  matches(_connection: ConnectionFacts, http: RbacHttpRequest | null): boolean {
    return http !== null && metadataMatches(this.metadata, http.dynamicMetadata);
  }
}

export class DestinationIpRule implements RbacMatcher {
  readonly range: CidrRange;

  constructor(range: CidrRange) {
    this.range = range;
  }

  matches(connection: ConnectionFacts): boolean {
    const ip = connection.destinationIp();
    return ip !== null && this.range.contains(ip);
  }
}

/** source_ip, direct_remote_ip and remote_ip: the peer's address (no trusted proxies in front). */
export class RemoteIpRule implements RbacMatcher {
  readonly range: CidrRange;

  constructor(range: CidrRange) {
    this.range = range;
  }

  matches(connection: ConnectionFacts): boolean {
    const ip = connection.remoteIp();
    return ip !== null && this.range.contains(ip);
  }
}

/** destination_port (end = start + 1) and destination_port_range: [start, end). */
export class DestinationPortRule implements RbacMatcher {
  readonly start: number;
  readonly end: number;

  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }

  matches(connection: ConnectionFacts): boolean {
    const port = connection.destinationPort();
    return port >= this.start && port < this.end;
  }
}

export class RequestedServerNameRule implements RbacMatcher {
  readonly name: StringMatcher;

  constructor(name: StringMatcher) {
    this.name = name;
  }

  matches(connection: ConnectionFacts): boolean {
    return this.name.match(connection.requestedServerName());
  }
}

/**
 * authenticated: a peer with a verified certificate; with principal_name, one of its URI SANs, else
 * one of its DNS SANs, else its subject must match (Envoy's order).
 */
export class AuthenticatedRule implements RbacMatcher {
  /** null: any verified peer. */
  readonly principalName: StringMatcher | null;

  constructor(principalName: StringMatcher | null) {
    this.principalName = principalName;
  }

  matches(connection: ConnectionFacts): boolean {
    const peer = connection.peerIdentity();
    if (peer === null) return false;
    const name = this.principalName;
    if (name === null) return true;
    for (const uri of peer.uriSans) if (name.match(uri)) return true;
    for (const dns of peer.dnsSans) if (name.match(dns)) return true;
    return name.match(peer.subject);
  }
}
