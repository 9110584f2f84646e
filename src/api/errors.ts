// The catalog of errors a user can cause with an Istio manifest, and the error value itself.
// Codes are stable: tools and tests may match on them. Each has one line saying when it is raised.

export const ERROR_CATALOG = {
  WEFT_E_YAML_SYNTAX: 'A document is not well-formed YAML; the message gives the parser\'s line and column.',
  WEFT_E_NOT_AN_OBJECT: 'A document (or List item) is not a mapping with apiVersion, kind, metadata and spec.',
  WEFT_E_UNKNOWN_KIND: 'The kind is not one of the Istio kinds Weft supports.',
  WEFT_E_UNSUPPORTED_API_VERSION: 'The apiVersion is not one Istio serves for this kind.',
  WEFT_E_UNKNOWN_FIELD: 'A field is not part of Istio\'s schema (often a typo, or snake_case instead of camelCase).',
  WEFT_E_WRONG_TYPE: 'A value has the wrong type, e.g. a string where an array of strings is expected.',
  WEFT_E_MISSING_FIELD: 'A required field is absent.',
  WEFT_E_INVALID_VALUE: 'A value has the right type but is not allowed (unknown enum value, malformed host name, ...).',
  WEFT_E_OUT_OF_RANGE: 'A number is outside the range Istio allows (ports 1..65535, weights 0..100, ...).',
  WEFT_E_INVALID_DURATION: 'A duration is not in Istio\'s format (1s, 0.5s, 100ms, 1m, 1h) or is shorter than 1ms.',
  WEFT_E_CONFLICTING_FIELDS: 'Fields that exclude each other were set together (an Istio oneof, e.g. exact|prefix|regex).',
  WEFT_E_DUPLICATE: 'A name or number that must be unique appears twice (subset names, port names, port numbers).',
  WEFT_E_WEIGHT_SUM: 'The weights of a route with more than one destination do not sum to 100.',
  WEFT_E_INVALID_REGEX: 'A regular expression does not compile, or uses a feature RE2 lacks (lookaround, backreferences).',
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Where a resource came from in a multi-document stream. */
export interface ErrorLocation {
  /** File name or other label given by the caller. */
  readonly source?: string;
  /** 1-based index of the YAML document in the stream. */
  readonly document?: number;
  /** 0-based index in the `items` of a `kind: List` document. */
  readonly item?: number;
}

export interface ApiError extends ErrorLocation {
  readonly code: ErrorCode;
  /** The Istio kind of the resource; '' when the document has no supported kind. */
  readonly kind: string;
  readonly namespace: string;
  /** metadata.name; '' when missing or unreadable. */
  readonly name: string;
  /** Field path inside the resource, e.g. `spec.http[0].route[1].weight`; '' for the whole document. */
  readonly path: string;
  readonly message: string;
  /** 1-based line and column, for YAML syntax errors. */
  readonly line?: number;
  readonly column?: number;
  /** The formatted message: `[<source> ][document N ][items[i]: ]Kind ns/name: path: message`. */
  readonly text: string;
  toString(): string;
}

export type ApiErrorFields = Omit<ApiError, 'text' | 'toString'>;

export function formatApiError(e: ApiErrorFields): string {
  const where = [
    e.source,
    e.document === undefined ? undefined : `document ${e.document}`,
    e.item === undefined ? undefined : `items[${e.item}]`,
  ].filter((s) => s !== undefined && s !== '').join(' ');
  const subject = e.name !== '' ? `${e.kind} ${e.namespace}/${e.name}` : e.kind;
  return [where, subject, e.path, e.message].filter((s) => s !== '').join(': ');
}

/** Builds an error value; `text` is computed once and `toString()` returns it. */
export function apiError(fields: ApiErrorFields): ApiError {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) clean[k] = v;
  const text = formatApiError(fields);
  const error = { ...clean, text } as unknown as ApiError;
  Object.defineProperty(error, 'toString', { value: () => text, enumerable: false });
  return error;
}
