// envoy.filters.http.ext_authz with an HTTP authorization service, with Envoy's semantics (filter.cc):
// - a route whose ExtAuthzPerRoute says `disabled` is not checked (and not counted);
// - a request the filter is disabled for (filter_enabled's share, filter_enabled_metadata not matching
//   the stream's dynamic metadata: Istio enables the filter through an RBAC shadow rule's metadata) is
//   counted as disabled and let through, or with deny_at_disable answered status_on_error (UAEX);
// - otherwise the request waits for the check (check-request.ts), and before it, with
//   with_request_body, for the start of its body (request-body.ts; a body that is too long without
//   allow_partial_message is answered 413).
//   Allowed: the service's headers that allowed_upstream_headers(_to_append) select are set on
//   (appended to) the request, those its x-envoy-auth-headers-to-remove lists are removed, and those
//   allowed_client_headers_on_success selects are added to the response.
//   Denied: the client gets the service's status, body and the headers allowed_client_headers selects
//   (all but hop-by-hop ones when unset), flag UAEX. The reply's content-length is the local reply's
//   own; the service's content-type, when allowed through, replaces the default text/plain.
//   Error: the request goes on with failure_mode_allow (with x-envoy-auth-failure-mode-allowed: true
//   if asked), else the client gets status_on_error, flag UAEX;
// - a request whose client went away during the check is never resumed.
//
// The filter object is shared by the requests of a connection manager; the per-request objects are
// the AuthzCheck (and RequestBodyReader) of a checked request. The response headers an allowed check
// adds wait in a WeakMap keyed by the stream (only when the service sent some).
import { ResponseFlag } from '../../../telemetry/response-flags.ts';
import { metadataMatches } from '../../metadata-matcher.ts';
import type { HttpStream } from '../../stream.ts';
import { FilterStatus, PassThroughFilter } from '../filter.ts';
import { AuthzCheck, CheckOutcome, type CheckOwner } from './check-request.ts';
import { appendHeader, removeHeader, setHeader } from '../../header-list.ts';
import { RequestBodyReader, type BodyOwner } from './request-body.ts';
import { ExtAuthzPerRoute, type ExtAuthzSettings } from './settings.ts';
import type { ExtAuthzStats } from './stats.ts';

/** Envoy's canonical name: the namespace of the dynamic metadata the filter emits. */
export const extAuthzMetadataNamespace = 'envoy.filters.http.ext_authz';
const failureModeAllowedHeader = 'x-envoy-auth-failure-mode-allowed';
const headersToRemoveHeader = 'x-envoy-auth-headers-to-remove';
/** What sendLocalReply sets itself (a content-type passed along replaces its text/plain). */
const localReplyOwnHeaders = new Set(['content-length']);
/** Request headers a service may not remove: the request's own framing and identity. */
const unremovable = new Set(['host', 'content-length', 'transfer-encoding']);

const payloadTooLarge = Buffer.from('Payload Too Large');

export class ExtAuthzFilter extends PassThroughFilter implements CheckOwner, BodyOwner {
  readonly settings: ExtAuthzSettings;
  readonly stats: ExtAuthzStats;
  /** Response headers (name, value pairs) an allowed check asked for, until the response goes out. */
  private readonly onSuccessHeaders = new WeakMap<HttpStream, string[]>();

  /** `name` is the filter's name in http_filters: the key of its per-route config. */
  constructor(name: string, settings: ExtAuthzSettings, stats: ExtAuthzStats) {
    super(name);
    this.settings = settings;
    this.stats = stats;
  }

  override decodeHeaders(stream: HttpStream): FilterStatus {
    const settings = this.settings;
    let withBody = settings.withBody;
    const route = stream.route;
    if (route !== null && route.perFilterConfig !== null) {
      const own = route.perFilterConfig.get(this.name);
      if (own instanceof ExtAuthzPerRoute) {
        if (own.disabled) return FilterStatus.Continue;
        if (own.overridesBody) withBody = own.withBody;
      }
    }
    if ((settings.enabled !== null && !settings.enabled.roll())
      || (settings.enabledMetadata !== null && !metadataMatches(settings.enabledMetadata, stream.dynamicMetadata))) {
      this.stats.disabled++;
      if (!settings.denyAtDisable) return FilterStatus.Continue;
      stream.sendLocalReply(settings.statusOnError, null, ResponseFlag.UnauthorizedExternalService);
      return FilterStatus.StopIteration;
    }
    if (withBody !== null && stream.hasBody) {
      // Resumes (or answers) the stream from onBodyRead.
      new RequestBodyReader(stream, withBody, this).start();
      return FilterStatus.StopIteration;
    }
    return this.check(stream, null, false);
  }

  onBodyRead(stream: HttpStream, body: Buffer | null, partial: boolean): void {
    if (stream.complete || stream.headersWritten) return;
    if (body === null) {
      stream.sendLocalReply(413, payloadTooLarge, 0);
      return;
    }
    if (this.check(stream, body, partial) === FilterStatus.Continue) stream.continueDecoding();
  }

  /** Starts the check; Continue / StopIteration as decodeHeaders returns them (it failed or is under way). */
  private check(stream: HttpStream, body: Buffer | null, partial: boolean): FilterStatus {
    const check = new AuthzCheck(stream, this.settings, this, body, partial);
    check.start();
    return check.outcome === CheckOutcome.Pending ? FilterStatus.StopIteration : this.apply(check);
  }

  override encodeHeaders(stream: HttpStream): FilterStatus {
    if (this.settings.clientHeadersOnSuccess === null) return FilterStatus.Continue;
    const add = this.onSuccessHeaders.get(stream);
    if (add !== undefined) {
      this.onSuccessHeaders.delete(stream);
      const headers = stream.responseHeaders;
      if (headers !== null) for (let i = 0; i < add.length; i++) headers.push(add[i]);
    }
    return FilterStatus.Continue;
  }

  onCheckDone(check: AuthzCheck): void {
    const stream = check.stream;
    if (stream.complete || stream.headersWritten) return;
    if (this.apply(check) === FilterStatus.Continue) stream.continueDecoding();
  }

  /** Acts on a finished check; Continue: the request goes on. */
  private apply(check: AuthzCheck): FilterStatus {
    const stream = check.stream;
    const settings = this.settings;
    if (check.outcome === CheckOutcome.Error) {
      this.stats.error++;
      if (settings.failureModeAllow) {
        this.stats.failureModeAllowed++;
        if (settings.failureModeAllowHeaderAdd) setHeader(stream.requestHeaders, failureModeAllowedHeader, 'true');
        return FilterStatus.Continue;
      }
      stream.sendLocalReply(settings.statusOnError, null, ResponseFlag.UnauthorizedExternalService);
      return FilterStatus.StopIteration;
    }
    const headers = check.headers ?? [];
    if (settings.dynamicMetadataHeaders !== null) this.emitMetadata(stream, headers);
    if (check.outcome === CheckOutcome.Denied) {
      this.stats.denied++;
      const toClient = settings.clientHeaders;
      const extra: string[] = [];
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i];
        if (!localReplyOwnHeaders.has(name) && toClient.matches(name)) extra.push(name, headers[i + 1]);
      }
      if (extra.length > 0) stream.localReplyHeaders = stream.localReplyHeaders === null ? extra : [...stream.localReplyHeaders, ...extra];
      stream.sendLocalReply(check.status, check.body, ResponseFlag.UnauthorizedExternalService);
      return FilterStatus.StopIteration;
    }
    this.stats.ok++;
    this.allow(stream, headers);
    return FilterStatus.Continue;
  }

  /** An allowed check's header changes to the request, and the response headers it asked for. */
  private allow(stream: HttpStream, headers: string[]): void {
    const { upstreamHeaders, upstreamHeadersToAppend, clientHeadersOnSuccess } = this.settings;
    const request = stream.requestHeaders;
    let onSuccess: string[] | null = null;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = headers[i + 1];
      if (name === headersToRemoveHeader) {
        for (const part of value.split(',')) {
          const target = part.trim().toLowerCase();
          if (target !== '' && !unremovable.has(target)) removeHeader(request, target);
        }
        continue;
      }
      if (upstreamHeaders !== null && upstreamHeaders.matches(name)) this.setRequestHeader(stream, name, value);
      if (upstreamHeadersToAppend !== null && upstreamHeadersToAppend.matches(name) && name !== 'host' && name !== 'content-length') {
        appendHeader(request, name, value);
      }
      if (clientHeadersOnSuccess !== null && clientHeadersOnSuccess.matches(name) && name !== 'content-length') {
        (onSuccess ??= []).push(name, value);
      }
    }
    if (onSuccess !== null) this.onSuccessHeaders.set(stream, onSuccess);
  }

  private setRequestHeader(stream: HttpStream, name: string, value: string): void {
    if (name === 'content-length') return;
    if (name === 'host') stream.authority = value;
    else setHeader(stream.requestHeaders, name, value);
  }

  /** The service headers dynamic_metadata_from_headers selects, as envoy.filters.http.ext_authz metadata. */
  private emitMetadata(stream: HttpStream, headers: string[]): void {
    const select = this.settings.dynamicMetadataHeaders!;
    let fields: Record<string, unknown> | null = null;
    for (let i = 0; i < headers.length; i += 2) {
      if (select.matches(headers[i])) (fields ??= {})[headers[i]] = headers[i + 1];
    }
    if (fields === null) return;
    const metadata = (stream.dynamicMetadata ??= {});
    metadata[extAuthzMetadataNamespace] = { ...metadata[extAuthzMetadataNamespace], ...fields };
  }
}
