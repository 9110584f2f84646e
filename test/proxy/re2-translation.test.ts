// RE2 syntax in safe_regex is translated to JavaScript at config time: flag groups, named groups,
// \A \z, \Q...\E, POSIX classes and Unicode classes match as RE2 would; what cannot be translated is
// refused with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translateRe2 } from '../../src/api/re2.ts';
import { compileRe2 } from '../../src/proxy/http/routing/re2.ts';

const full = (pattern: string) => compileRe2(pattern, '', true);

test('(?i) applies to the rest of its group, (?i:...) to its own group', () => {
  assert.ok(full('(?i)/Reviews/[0-9]+').test('/REVIEWS/12'));
  assert.ok(full('/a(?i)bc').test('/aBC'));
  assert.ok(!full('/a(?i)bc').test('/ABC'), 'text before the flag stays case-sensitive');
  assert.ok(full('(x(?i)y)z').test('xYz'));
  assert.ok(!full('(x(?i)y)z').test('xYZ'), 'the flag ends with its group');
  assert.ok(full('(?i:ab)c').test('ABc') && !full('(?i:ab)c').test('ABC'));
  assert.ok(full('a(?i)b|c').test('C') === false, 'an alternative ends the flag scope');
  assert.ok(full('(?s).+').test('a\nb'));
});

test('named groups, \\A, \\z and \\Q...\\E', () => {
  assert.ok(full('(?P<id>[0-9]+)/x').test('42/x'));
  assert.ok(full('\\A/api\\z').test('/api'));
  assert.ok(full('\\Q/a.b*c\\E').test('/a.b*c'));
  assert.ok(!full('\\Q/a.b*c\\E').test('/aXbbc'), 'quoted metacharacters are literal');
});

test('POSIX and Unicode classes', () => {
  assert.ok(full('[[:alpha:]]+[[:digit:]]').test('abc1'));
  assert.ok(!full('[[:alpha:]]+').test('ab1'));
  assert.ok(full('\\pL+').test('żółw'));
  assert.ok(full('\\p{Greek}+').test('λόγος'));
  assert.ok(full('[]a]+').test(']a]'), 'a ] first in a class is a literal');
});

test('what cannot be translated, or RE2 rejects, is refused with the reason', () => {
  assert.throws(() => full('(?U)a+'), /ungreedy/);
  assert.throws(() => full('[[:^alpha:]]'), /negated POSIX class/);
  assert.match((translateRe2('[[:nope:]]') as { problem: string }).problem, /invalid character class range/);
  assert.throws(() => full('a)'), /unmatched/);
  assert.throws(() => full('a(?=b)'), /lookahead/, 'RE2 has no lookahead, whoever sent the config');
  assert.throws(() => full('(a)\\1'), /backreference/);
});
