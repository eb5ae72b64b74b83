import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noFastifyOrKysely = [
  { group: ['fastify', '@fastify/*', 'fastify-*'], message: 'Core modules must not depend on HTTP.' },
  { group: ['kysely', 'better-sqlite3', 'pg'], message: 'Only src/storage talks to the database.' },
  { group: ['**/storage/**'], message: 'Core modules must not depend on storage.' },
  { group: ['**/server/**', 'ioredis'], message: 'Core modules receive their dependencies as arguments.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Fastify plugins and handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/storage/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['kysely', 'better-sqlite3', 'pg'], message: 'Only src/storage imports Kysely.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/oauth/**/*.ts', 'src/policy/**/*.ts', 'src/keys/**/*.ts'],
    ignores: ['src/**/routes.ts', 'src/**/plugin.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: noFastifyOrKysely }] },
  },
  {
    files: ['src/**/service.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['fastify', '@fastify/*'], message: 'Services must not depend on HTTP.' },
            { group: ['kysely', 'better-sqlite3', 'pg'], message: 'Services use repositories.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['fastify', '@fastify/*'], message: 'Storage must not depend on HTTP.' },
            { group: ['**/oauth/**', '**/policy/**'], message: 'Storage must not depend on the core.' },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['bench/**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        URLSearchParams: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
