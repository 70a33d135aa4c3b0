import { defineConfig } from 'tsup';
import { dualLibraryBuild } from '../../tools/build/tsup-preset';

// CommonJS too: @thingcert/constructs loads this package at synth time, also
// in CommonJS CDK apps.
export default defineConfig(dualLibraryBuild());
