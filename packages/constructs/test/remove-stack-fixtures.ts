// Vitest setup file (vitest.config.ts `setupFiles`): runs for every test file,
// so no file can forget to remove what the stack fixtures wrote to the temp dir.
import { afterAll } from 'vitest';
import { removeStackFixtures } from './stack-fixture';

afterAll(removeStackFixtures);
