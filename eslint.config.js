// Lint: typescript-eslint's recommended rules plus the layering rules of DESIGN.md.
// A folder may import from src/api and src/xds and from its own subtree; the control plane and the
// proxy never import each other; the CLI reaches the control plane only over its HTTP API.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: forbidden.map((group) => ({ group: [group], message: why })),
    }],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'src/xds/generated/**', 'dashboard/dist/**', 'dist/**', 'dist.tmp/**', 'dist.old/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['bin/**'], languageOptions: { globals: { process: 'readonly', URL: 'readonly' } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  layer(['src/proxy/**'], ['**/control-plane/**', '**/cli/**'],
    'the proxy never imports the control plane or the CLI (DESIGN.md: layout)'),
  layer(['src/control-plane/**'], ['**/proxy/**', '**/cli/**'],
    'the control plane never imports the proxy or the CLI (DESIGN.md: layout)'),
  layer(['src/api/**', 'src/xds/**', 'src/common/**'], ['**/proxy/**', '**/control-plane/**', '**/cli/**'],
    'api/, xds/ and common/ are shared leaves and import nothing above them'),
  layer(['src/cli/**'], ['**/control-plane/*/**', '**/proxy/*/**'],
    'the CLI reaches the control plane over its HTTP API; it may only start a process through control-plane/main.ts or proxy/main.ts'),
  layer(['src/control-plane/generate/**'], ['node:*', '**/store/**', '**/server/**', '**/admin/**'],
    'generate/ is pure: no I/O, no store, no server (DESIGN.md decision 2)'),
);
