// envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig: a route's typed_per_filter_config entry
// for the JWT filter, which either turns verification off for the route or names the requirement_map
// entry to check instead of the rules.
import { FieldPath, bool, checkFields, isPresent, string, type Message } from '../../../upstream/envoy-config.ts';

export const jwtPerRouteTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig';

const perRouteFields = new Set(['@type', 'type_url', 'disabled', 'requirement_name']);

export class JwtPerRoute {
  readonly disabled: boolean;
  /** '' when disabled. */
  readonly requirementName: string;

  constructor(disabled: boolean, requirementName: string) {
    this.disabled = disabled;
    this.requirementName = requirementName;
  }
}

export function compileJwtPerRoute(config: Message, at: FieldPath): JwtPerRoute {
  checkFields(at, config, perRouteFields);
  const disabled = bool(at.field('disabled'), config.disabled);
  const name = string(at.field('requirement_name'), config.requirement_name) ?? '';
  const hasDisabled = isPresent(config.disabled);
  if (hasDisabled && name !== '') at.reject('sets disabled and requirement_name; exactly one is allowed');
  if (hasDisabled) {
    if (disabled !== true) at.field('disabled').reject('must be true (leave it out to verify the route)');
    return new JwtPerRoute(true, '');
  }
  if (name === '') at.reject('must set disabled or requirement_name');
  return new JwtPerRoute(false, name);
}
