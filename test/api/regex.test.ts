import { test } from 'node:test';
import assert from 'node:assert/strict';
import { regexProblem } from '../../src/api/regex.ts';

test('RE2 syntax that JavaScript lacks is accepted', () => {
  for (const re of ['(?i)jason', '(?i:abc)def', '(?P<version>v\\d+)', '(?<v>x)', '^/api\\z', '\\Aabc', '\\Q.*+\\E', '[]a]', '[^]a]',
    '[[:alpha:]]+', '\\pL', '\\p{Greek}', 'a{2,1000}', '\\123', '\\x41\\x{263a}', '[a-z\\-]', '\\d+\\s\\w\\b', '.*']) {
    assert.equal(regexProblem(re), undefined, re);
  }
});

test('constructs RE2 rejects are rejected with a reason', () => {
  const cases: [string, string][] = [
    ['foo(?=bar)', 'lookahead (?= or (?! is not supported (Istio uses RE2 syntax)'],
    ['(?!x)', 'lookahead (?= or (?! is not supported (Istio uses RE2 syntax)'],
    ['(?<=a)b', 'lookbehind (?<= or (?<! is not supported (Istio uses RE2 syntax)'],
    ['(?<!a)b', 'lookbehind (?<= or (?<! is not supported (Istio uses RE2 syntax)'],
    ['(a)\\1', 'backreference \\1 is not supported (Istio uses RE2 syntax)'],
    ['(?<n>a)\\k<n>', 'named backreference \\k<...> is not supported (Istio uses RE2 syntax)'],
    ['a{1001}', 'repeat count {1001} exceeds 1000 (Istio uses RE2 syntax)'],
    ['(?>a)', 'unsupported group syntax (?> (Istio uses RE2 syntax)'],
    ['abc\\', 'trailing backslash (Istio uses RE2 syntax)'],
    ['\\u0041', 'invalid escape sequence \\u (Istio uses RE2 syntax)'],
    ['a\\C', 'invalid escape sequence \\C (Istio uses RE2 syntax)'],
  ];
  for (const [re, why] of cases) assert.equal(regexProblem(re), why, re);
});

test('patterns that do not compile are rejected with the compiler\'s reason', () => {
  assert.equal(regexProblem('(abc'), 'Unterminated group (Istio uses RE2 syntax)');
  assert.equal(regexProblem('*a'), 'Nothing to repeat (Istio uses RE2 syntax)');
  assert.equal(regexProblem('a**'), 'Nothing to repeat (Istio uses RE2 syntax)');
});
