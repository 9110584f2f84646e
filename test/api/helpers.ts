// Helpers for src/api tests: build a resource around a spec and collect error texts.
import assert from 'node:assert/strict';
import { validateResource } from '../../src/api/index.ts';

export function resource(kind: string, spec: unknown, metadata: Record<string, unknown> = { name: 'r' }): Record<string, unknown> {
  return { apiVersion: 'networking.istio.io/v1', kind, metadata, spec };
}

/** The formatted error texts for a resource of `kind` with `spec` (named default/r). */
export function errorTexts(kind: string, spec: unknown, metadata?: Record<string, unknown>): string[] {
  return validateResource(resource(kind, spec, metadata)).errors.map((e) => e.text);
}

/** The errors as [code, path] pairs. */
export function errorCodes(kind: string, spec: unknown): [string, string][] {
  return validateResource(resource(kind, spec)).errors.map((e) => [e.code, e.path]);
}

export function assertValid(kind: string, spec: unknown): void {
  const result = validateResource(resource(kind, spec));
  assert.deepEqual(result.errors.map((e) => e.text), []);
  assert.ok(result.resource);
}
