/** vitest global setup: dist/ built from the current sources before any test starts `tgpulse` from it (cli.ts). */
export { ensureCliBuilt as default } from './cli.ts';
