// envoy.type.matcher.v3.MetadataMatcher and ValueMatcher, compiled once at config time and evaluated
// against a stream's dynamic metadata (plain JSON values by filter name).
//
// Semantics follow Envoy's Matchers (source/common/common/matchers.cc): the path walks nested
// structs key by key; a missing filter, key or a non-struct on the way yields "no value", which only
// `present_match: false`-style inversions can turn into a match. A JSON null is a value (null_match
// matches it), `undefined` is no value. `invert` negates the whole result, including the no-value case.
import {
  FieldPath, bool, checkFields, isPresent, message, optionalMessage, repeated, requiredString, type Message,
} from '../upstream/envoy-config.ts';
import { compileStringMatcher } from './routing/string-matcher.ts';

/** A compiled ValueMatcher: true when `value` (undefined: absent) matches. */
export type ValueMatcher = (value: unknown) => boolean;

export class MetadataMatcher {
  readonly filter: string;
  readonly path: readonly string[];
  readonly value: ValueMatcher;
  readonly invert: boolean;

  constructor(filter: string, path: readonly string[], value: ValueMatcher, invert: boolean) {
    this.filter = filter;
    this.path = path;
    this.value = value;
    this.invert = invert;
  }
}

function isStruct(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at the matcher's path, or undefined when absent. */
function lookup(m: MetadataMatcher, dynamicMetadata: Record<string, Record<string, unknown>> | null): unknown {
  if (dynamicMetadata === null) return undefined;
  let current: unknown = dynamicMetadata[m.filter];
  for (const key of m.path) {
    if (!isStruct(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

export function metadataMatches(m: MetadataMatcher, dynamicMetadata: Record<string, Record<string, unknown>> | null): boolean {
  return m.value(lookup(m, dynamicMetadata)) !== m.invert;
}

const metadataMatcherFields = new Set(['filter', 'path', 'value', 'invert']);
const pathSegmentFields = new Set(['key']);

export function compileMetadataMatcher(at: FieldPath, value: unknown): MetadataMatcher {
  const m = message(at, value);
  checkFields(at, m, metadataMatcherFields);
  const filter = requiredString(at.field('filter'), m.filter);
  const segments = repeated(at.field('path'), m.path);
  if (segments.length === 0) at.field('path').reject('must have at least one segment');
  const path = segments.map((s, i) => {
    const sp = at.field('path').item(i);
    const segment = message(sp, s);
    checkFields(sp, segment, pathSegmentFields);
    return requiredString(sp.field('key'), segment.key);
  });
  const matcher = optionalMessage(at.field('value'), m.value);
  if (matcher === undefined) throw at.field('value').error('is required');
  return new MetadataMatcher(filter, path, compileValueMatcher(at.field('value'), matcher), bool(at.field('invert'), m.invert) ?? false);
}

const valueMatcherKinds = ['null_match', 'double_match', 'string_match', 'bool_match', 'present_match', 'list_match', 'or_match'];
const valueMatcherFields = new Set(valueMatcherKinds);

export function compileValueMatcher(at: FieldPath, value: unknown): ValueMatcher {
  const m = message(at, value);
  checkFields(at, m, valueMatcherFields);
  const set = valueMatcherKinds.filter((k) => isPresent(m[k]));
  if (set.length !== 1) at.reject(`must set exactly one of ${valueMatcherKinds.join(', ')}`);
  const kind = set[0];
  const kat = at.field(kind);
  switch (kind) {
    case 'null_match':
      checkFields(kat, message(kat, m.null_match), new Set());
      return (v) => v === null;
    case 'double_match':
      return compileDoubleMatcher(kat, m.double_match);
    case 'string_match': {
      const sm = compileStringMatcher(kat, m.string_match);
      return (v) => typeof v === 'string' && sm.match(v);
    }
    case 'bool_match': {
      const expected = bool(kat, m.bool_match)!;
      return (v) => v === expected;
    }
    case 'present_match': {
      // Envoy: present_match false matches nothing (use invert to match an absent value).
      const present = bool(kat, m.present_match)!;
      return present ? (v) => v !== undefined : () => false;
    }
    case 'list_match': {
      const lm = message(kat, m.list_match);
      checkFields(kat, lm, new Set(['one_of']));
      const oneOf = optionalMessage(kat.field('one_of'), lm.one_of);
      if (oneOf === undefined) throw kat.error('must set one_of');
      const element = compileValueMatcher(kat.field('one_of'), oneOf);
      return (v) => Array.isArray(v) && v.some(element);
    }
    default: {
      const om = message(kat, m.or_match);
      checkFields(kat, om, new Set(['value_matchers']));
      const list = repeated(kat.field('value_matchers'), om.value_matchers);
      if (list.length < 2) kat.field('value_matchers').reject('must have at least two matchers');
      const matchers = list.map((x, i) => compileValueMatcher(kat.field('value_matchers').item(i), x));
      return (v) => matchers.some((mm) => mm(v));
    }
  }
}

function doubleValue(at: FieldPath, value: unknown): number {
  if (!isPresent(value)) return 0;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || Number.isNaN(n)) at.reject(`must be a number, got ${JSON.stringify(value)}`);
  return n;
}

function compileDoubleMatcher(at: FieldPath, value: unknown): ValueMatcher {
  const m: Message = message(at, value);
  checkFields(at, m, new Set(['range', 'exact']));
  const hasRange = isPresent(m.range);
  if (hasRange === isPresent(m.exact)) at.reject('must set exactly one of range, exact');
  if (hasRange) {
    const rat = at.field('range');
    const r = message(rat, m.range);
    checkFields(rat, r, new Set(['start', 'end']));
    const start = doubleValue(rat.field('start'), r.start);
    const end = doubleValue(rat.field('end'), r.end);
    // Half-open [start, end), as DoubleRange says.
    return (v) => typeof v === 'number' && v >= start && v < end;
  }
  const exact = doubleValue(at.field('exact'), m.exact);
  return (v) => typeof v === 'number' && v === exact;
}
