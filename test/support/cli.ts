/**
 * How tests and benches run `tgpulse` as a process: the compiled CLI in
 * dist/, with plain node, exactly as `./tgpulse` runs it. A role started
 * through tsx spends about twice the CPU compiling its sources first, and the
 * suite starts a hundred roles on two cores. The suite's global setup
 * (cli-build-setup.ts) and the benches build dist/ first when the sources
 * changed, so no test runs stale code.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedEmbeddedFolder } from '../../control/pglite-template.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The compiled entry point, for finding a role by its command line. */
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Node's arguments for `tgpulse <args>`. */
export function cliArgs(...args: string[]): string[] {
  return ['--enable-source-maps', CLI_MAIN, ...args];
}

/** Builds dist/ unless it is newer than the sources (scripts/build.sh decides; a few ms when fresh). */
export function ensureCliBuilt(): void {
  execFileSync(join(REPO_ROOT, 'scripts', 'build.sh'), ['--if-stale'], { stdio: 'inherit' });
}

/**
 * The services that create their embedded control plane when the data folder
 * has none. Not the one-shot commands: `restore` refuses a folder that holds
 * anything.
 */
const SERVICES_WITH_CONTROL_PLANE = new Set(['up', 'api', 'bot', 'ingest']);

/**
 * Before `tgpulse <command>` starts: a service's embedded store in the data
 * folder starts as a copy of the suite's initdb'd template, unless the
 * environment names a Postgres server.
 */
export function seedControlFolder(command: string, env: NodeJS.ProcessEnv): void {
  if (SERVICES_WITH_CONTROL_PLANE.has(command) && env.TGPULSE_DATA_DIR && !env.TGPULSE_POSTGRES_URL)
    seedEmbeddedFolder(join(env.TGPULSE_DATA_DIR, 'pglite'));
}
