// @ts-check
'use strict';
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');
const prettier = require('eslint-config-prettier');

module.exports = tseslint.config(
    { ignores: ['node_modules/', 'nodes/**/*.js', 'nodes/**/*.d.ts', 'resources/serial-mfg-rules.js', '.compat/', '.bench/', '.demo/'] },
    js.configs.recommended,
    ...tseslint.configs.recommended.map((c) => ({ ...c, files: ['**/*.ts'] })),
    {
        files: ['**/*.ts'],
        rules: {
            '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
            // `const node = this`, as in every Node-RED node: the node's handlers are closures.
            '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
        },
    },
    {
        files: ['**/*.js'],
        languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
        rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }] },
    },
    {
        // Code the browser test runs in the page.
        files: ['test/editor.test.js'],
        languageOptions: { globals: { ...globals.browser, RED: 'readonly' } },
    },
    {
        // The editor's shared script runs in the browser, beside Node-RED's editor globals.
        files: ['resources/*.js'],
        languageOptions: { sourceType: 'script', globals: { ...globals.browser, RED: 'readonly', $: 'readonly' } },
    },
    prettier,
);
