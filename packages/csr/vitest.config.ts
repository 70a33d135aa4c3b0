import { defineConfig } from 'vitest/config';
import { testConfig } from '../../tools/build/vitest-preset.ts';

export default defineConfig(testConfig());
