// ESLint (typescript-eslint's recommended rules) for everything TypeScript in the repository; run by
// `npm run lint` in `npm test`. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import regexp from 'eslint-plugin-regexp';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-artifacts/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` marks a value destructured away on purpose (`const { meta: _meta, ...rest } = resource`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Tests read untyped JSON bodies; the source code does not use `any`.
      '@typescript-eslint/no-explicit-any': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // README code blocks: a bare `report.reason;` line shows a field and its value in a comment.
    files: ['examples/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { regexp },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // Every tenant shares one event loop: a pattern that backtracks super-linearly on some input (a SAML
      // parser's error message holding 47,000 spaces took one replace 2.5 s) is refused here, not found later.
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      'regexp/no-super-linear-move': ['error', { report: 'potential' }],
      // A Map's first key is reached by walking over every slot deleted since its table was last rebuilt: a
      // cache or queue that drops its oldest entry that way pays O(size) per step once full (docs/login-freshness.md).
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name='next'][callee.object.type='CallExpression'][callee.object.callee.property.name=/^(keys|values|entries)$/]",
          message:
            "Reaching a Map's or Set's oldest entry with keys().next() is O(deleted slots): use OrderedMap (src/ordered-map.ts) or a heap (src/store/expiring-keys.ts).",
        },
      ],
    },
  },
);
