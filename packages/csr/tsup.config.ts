import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

export default defineConfig(libraryBuild());
