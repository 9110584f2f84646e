// A small schema toolkit for validating Istio resources as users write them (already parsed from YAML
// or JSON). A schema checks a value and reports issues (code, path, message) into a context; it never
// throws. `object()` is typed against the TypeScript interface it validates, so the compiler keeps
// each kind's schema and its types in step: a field missing from the schema, or with a schema of the
// wrong type, is a type error.

import type { ErrorCode } from './errors.ts';
import { parseDuration } from './duration.ts';

export interface Issue {
  readonly code: ErrorCode;
  readonly path: string;
  readonly message: string;
}

export interface Context {
  /** Append only through report(). */
  readonly issues: Issue[];
  /** Namespace of the resource being validated (after defaulting). */
  readonly namespace: string;
  /** How many of `issues` mean a value does not have its TypeScript type (kept by report()). */
  shapeIssues?: number;
}

// Issues that mean a value does not have its TypeScript type.
const SHAPE_CODES: ReadonlySet<ErrorCode> = new Set(['WEFT_E_WRONG_TYPE', 'WEFT_E_MISSING_FIELD', 'WEFT_E_UNKNOWN_FIELD']);

export function report(ctx: Context, code: ErrorCode, path: string, message: string): void {
  ctx.issues.push({ code, path, message });
  if (SHAPE_CODES.has(code)) ctx.shapeIssues = (ctx.shapeIssues ?? 0) + 1;
}

export interface Schema<T> {
  /** What a valid value is, after "must be": `an array of strings`, `an integer 0..100`. */
  readonly expected: string;
  /** Plural noun for `an array of ...`: `strings`, `objects`. */
  readonly plural: string;
  validate(value: unknown, path: string, ctx: Context): void;
  /** Phantom: the TypeScript type of a valid value. Never set. */
  readonly _type?: T;
}

/** What a custom check returns: nothing when fine, a message (reported as WEFT_E_INVALID_VALUE) or a code and message. */
export type Problem = string | { readonly code: ErrorCode; readonly message: string } | undefined;

export function reportProblem(ctx: Context, path: string, problem: Problem): void {
  if (problem === undefined) return;
  if (typeof problem === 'string') report(ctx, 'WEFT_E_INVALID_VALUE', path, problem);
  else report(ctx, problem.code, path, problem.message);
}

// ---- paths ----

export function fieldPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

export function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** Map keys: `.key` when the key is a plain word, else `["key.with/odd chars"]`. */
export function keyPath(path: string, key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? fieldPath(path, key) : `${path}[${JSON.stringify(key)}]`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function wrongType(ctx: Context, path: string, expected: string): void {
  report(ctx, 'WEFT_E_WRONG_TYPE', path, `must be ${expected}`);
}

// ---- scalars ----

export function string(options: { check?: (s: string) => Problem } = {}): Schema<string> {
  const expected = 'a string';
  return {
    expected, plural: 'strings',
    validate(value, path, ctx) {
      if (typeof value !== 'string') return wrongType(ctx, path, expected);
      if (options.check) reportProblem(ctx, path, options.check(value));
    },
  };
}

export function boolean(): Schema<boolean> {
  const expected = 'a boolean (true or false)';
  return {
    expected, plural: 'booleans',
    validate(value, path, ctx) {
      if (typeof value !== 'boolean') wrongType(ctx, path, expected);
    },
  };
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` ${min}..${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

export const INT32_MAX = 2_147_483_647;
export const UINT32_MAX = 4_294_967_295;

/** An integer; `min`/`max` inclusive. A non-integer is a wrong type, an integer outside the range is out of range. */
export function integer(options: { min?: number; max?: number } = {}): Schema<number> {
  const range = rangeText(options.min, options.max);
  const expected = `an integer${range}`;
  return {
    expected, plural: `integers${range}`,
    validate(value, path, ctx) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return wrongType(ctx, path, expected);
      if ((options.min !== undefined && value < options.min) || (options.max !== undefined && value > options.max)) {
        report(ctx, 'WEFT_E_OUT_OF_RANGE', path, `must be ${expected}`);
      }
    },
  };
}

export function number(options: { min?: number; max?: number } = {}): Schema<number> {
  const range = rangeText(options.min, options.max);
  const expected = `a number${range}`;
  return {
    expected, plural: `numbers${range}`,
    validate(value, path, ctx) {
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrongType(ctx, path, expected);
      if ((options.min !== undefined && value < options.min) || (options.max !== undefined && value > options.max)) {
        report(ctx, 'WEFT_E_OUT_OF_RANGE', path, `must be ${expected}`);
      }
    },
  };
}

/** One of a fixed set of strings, spelled exactly as Istio spells them. */
export function enumOf<const V extends string>(values: readonly V[]): Schema<V> {
  const expected = `one of ${values.join(', ')}`;
  return {
    expected, plural: `values (${values.join(', ')})`,
    validate(value, path, ctx) {
      if (typeof value !== 'string') return wrongType(ctx, path, expected);
      if (!(values as readonly string[]).includes(value)) {
        report(ctx, 'WEFT_E_INVALID_VALUE', path, `must be ${expected} (got "${value}")`);
      }
    },
  };
}

/**
 * A duration string in Istio's format (`1s`, `0.5s`, `100ms`, `1m`, `1h`), at least 1ms and, as
 * Istio's validation requires (ValidateDuration), a whole number of milliseconds. Options:
 * `allowZero` for the few fields where Istio gives 0 a meaning (e.g. a TCP idle timeout of 0s
 * disables it); `subMillisecond` for the fields Istio checks only against its CRD rule (>= 1ms).
 */
export function duration(options: { allowZero?: boolean; subMillisecond?: boolean } = {}): Schema<string> {
  const expected = 'a duration like 1s, 0.5s, 100ms, 1m or 1h';
  return {
    expected, plural: 'durations',
    validate(value, path, ctx) {
      if (typeof value !== 'string') return wrongType(ctx, path, expected);
      const ms = parseDuration(value);
      if (ms === undefined) return report(ctx, 'WEFT_E_INVALID_DURATION', path, `must be ${expected} (got "${value}")`);
      if (ms < 1 && !(options.allowZero && ms === 0)) {
        report(ctx, 'WEFT_E_INVALID_DURATION', path, options.allowZero ? 'must be 0 or at least 1ms' : 'must be at least 1ms');
      } else if (!options.subMillisecond && !Number.isInteger(ms)) {
        report(ctx, 'WEFT_E_INVALID_DURATION', path, `must be a whole number of milliseconds (got "${value}"; Istio supports millisecond precision)`);
      }
    },
  };
}

/** Anything; for fields that are tolerated and ignored (e.g. metadata.resourceVersion). Typed `never`: never read. */
export function tolerated(): Schema<never> {
  return { expected: 'anything', plural: 'values', validate() {} };
}

// ---- containers ----

export function array<T>(item: Schema<T>, options: { minItems?: number; maxItems?: number } = {}): Schema<T[]> {
  const expected = `an array of ${item.plural}`;
  return {
    expected, plural: `arrays of ${item.plural}`,
    validate(value, path, ctx) {
      if (!Array.isArray(value)) return wrongType(ctx, path, expected);
      const { minItems, maxItems } = options;
      if (minItems !== undefined && value.length < minItems) {
        report(ctx, 'WEFT_E_INVALID_VALUE', path, minItems === 1 ? 'must not be empty' : `must have at least ${minItems} items`);
      }
      if (maxItems !== undefined && value.length > maxItems) {
        report(ctx, 'WEFT_E_INVALID_VALUE', path, `must have at most ${maxItems} items`);
      }
      value.forEach((v, i) => item.validate(v, indexPath(path, i), ctx));
    },
  };
}

/** A map with string keys (a YAML mapping); `key` checks each key, reported at the key's path. */
export function map<T>(value: Schema<T>, options: { key?: (k: string) => Problem; maxEntries?: number } = {}): Schema<Record<string, T>> {
  const expected = `a map of ${value.plural}`;
  return {
    expected, plural: `maps of ${value.plural}`,
    validate(v, path, ctx) {
      if (!isPlainObject(v)) return wrongType(ctx, path, expected);
      const entries = Object.entries(v);
      if (options.maxEntries !== undefined && entries.length > options.maxEntries) {
        report(ctx, 'WEFT_E_INVALID_VALUE', path, `must have at most ${options.maxEntries} entries`);
      }
      for (const [k, item] of entries) {
        const p = keyPath(path, k);
        if (options.key) reportProblem(ctx, p, options.key(k));
        value.validate(item, p, ctx);
      }
    },
  };
}

export function stringMap(options: { key?: (k: string) => Problem; value?: (v: string) => Problem } = {}): Schema<Record<string, string>> {
  return map(string({ check: options.value }), { key: options.key });
}

const countShapeIssues = (ctx: Context): number => ctx.shapeIssues ?? 0;

type FieldName<T> = keyof T & string;

export interface ObjectOptions<T> {
  /** Fields that must be present (not absent, not null). */
  readonly required?: readonly FieldName<T>[];
  /** Groups of fields of which at most one may be set (Istio's oneof). */
  readonly oneOf?: readonly (readonly FieldName<T>[])[];
  /**
   * Cross-field checks. They run only when the object's shape is right (no unknown, missing or
   * wrongly typed field anywhere inside it), so `value` really is a T; values that are merely not
   * allowed (out of range, bad enum value, ...) do not stop them, so all such errors are reported.
   */
  readonly check?: (value: T, path: string, ctx: Context) => void;
}

/** The schema of every field of T, exactly: a missing or extra field is a compile error. */
export type Fields<T> = { readonly [K in keyof T]-?: Schema<NonNullable<T[K]>> };

/**
 * An object with known fields; any other field is an error. A field whose value is null counts as
 * absent (as in proto3 JSON), and is dropped from the resource returned to callers.
 */
export function object<T extends object>(fields: Fields<T>, options: ObjectOptions<T> = {}): Schema<T> {
  const schemas = fields as Record<string, Schema<unknown>>;
  const expected = 'an object';
  return {
    expected, plural: 'objects',
    validate(value, path, ctx) {
      if (!isPlainObject(value)) return wrongType(ctx, path, expected);
      const shapeIssuesBefore = countShapeIssues(ctx);
      for (const [k, v] of Object.entries(value)) {
        const p = fieldPath(path, k);
        if (!Object.hasOwn(schemas, k)) report(ctx, 'WEFT_E_UNKNOWN_FIELD', p, 'unknown field');
        else if (v !== null) schemas[k].validate(v, p, ctx);
      }
      const isSet = (k: string) => value[k] !== undefined && value[k] !== null;
      for (const k of options.required ?? []) {
        if (!isSet(k)) report(ctx, 'WEFT_E_MISSING_FIELD', fieldPath(path, k), 'is required');
      }
      for (const group of options.oneOf ?? []) {
        const set = group.filter(isSet);
        if (set.length > 1) {
          report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, `only one of ${group.join(', ')} may be set (found ${set.join(' and ')})`);
        }
      }
      if (options.check && countShapeIssues(ctx) === shapeIssuesBefore) options.check(value as T, path, ctx);
    },
  };
}
