// One ESLint config for the whole workspace. Projects run `eslint .` from their
// own folder; this file is found by walking up.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import vitest from '@vitest/eslint-plugin';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Who may depend on whom. Tags: `type:lib|app|tool` and
 * `runtime:lambda|device|infra|shared|local`.
 * The banned imports are the point: Lambda code must never pull in the CDK or
 * the device SDK (bundle size, cold start, wrong runtime), device code never
 * the CDK.
 */
const cdk = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'];
const deviceSdk = ['aws-iot-device-sdk-v2', 'aws-iot-device-sdk-v2/*', 'aws-crt', 'aws-crt/*'];

/** @param {boolean} inTests test files may also use the local cloud and test fixtures */
function depConstraints(inTests) {
  const tools = inTests ? ['type:tool'] : [];
  return [
    { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', ...tools] },
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:app', ...tools] },
    { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
    {
      sourceTag: 'runtime:shared',
      onlyDependOnLibsWithTags: ['runtime:shared', ...tools],
      bannedExternalImports: [...cdk, ...deviceSdk],
    },
    {
      sourceTag: 'runtime:lambda',
      onlyDependOnLibsWithTags: ['runtime:lambda', 'runtime:shared', ...tools],
      bannedExternalImports: [...cdk, ...deviceSdk],
    },
    {
      sourceTag: 'runtime:device',
      onlyDependOnLibsWithTags: ['runtime:device', 'runtime:shared', ...tools],
      bannedExternalImports: cdk,
    },
    {
      sourceTag: 'runtime:infra',
      onlyDependOnLibsWithTags: [
        'runtime:infra',
        'runtime:lambda',
        'runtime:device',
        'runtime:shared',
        ...tools,
      ],
    },
    {
      sourceTag: 'runtime:local',
      onlyDependOnLibsWithTags: ['runtime:local', 'runtime:shared', 'runtime:lambda'],
    },
  ];
}

const testFiles = ['**/*.test.ts', '**/*.bench.ts', '**/test/**/*.ts', '**/bench/**'];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/reports/**',
      '**/cdk.out/**',
      '**/.nx/**',
      '**/vitest.config.ts',
      '**/tsup.config.ts',
      '**/test/fixtures/**',
      // Temporary files tsup and vite write next to their configs while a
      // build or test of the same project runs in parallel with lint.
      '**/*.bundled_*.mjs',
      '**/*.timestamp-*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Async functions without await are the normal shape of handlers and fakes.
      '@typescript-eslint/require-await': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        { allow: [], enforceBuildableLibDependency: false, depConstraints: depConstraints(false) },
      ],
    },
  },
  {
    files: testFiles,
    plugins: { vitest },
    rules: {
      'vitest/no-focused-tests': 'error',
      'vitest/no-disabled-tests': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        { allow: [], enforceBuildableLibDependency: false, depConstraints: depConstraints(true) },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
