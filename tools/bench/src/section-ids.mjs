/**
 * The sections of `pnpm bench`, in the order a run takes them: the ids
 * `--only` accepts and the ids of the sections in a results file.
 */
export const SECTION_IDS = [
  'lambda',
  'provisioning',
  'claim',
  'device',
  'local-cloud',
  'rotation',
  'dev-loop',
];
