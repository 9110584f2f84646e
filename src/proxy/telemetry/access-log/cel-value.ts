// The values a CEL access log expression computes with, and CEL's error value (a missing header, an
// attribute the exchange does not have): a filter whose expression ends in an error does not log.

export const celError: unique symbol = Symbol('cel.error');
export type CelValue = string | number | boolean | null | readonly CelValue[] | ReadonlyMap<string, string> | typeof celError;
