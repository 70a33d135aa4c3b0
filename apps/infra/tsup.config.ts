import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

// An app, not a library: one entry, no declarations. Dependencies (CDK,
// cdk-nag, @thingcert/constructs) stay external and load from node_modules.
export default defineConfig(libraryBuild({ entry: ['src/main.ts'], dts: false }));
