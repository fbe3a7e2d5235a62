/**
 * Test support (suite and benches; production never sets the variable): an
 * initdb'd PGlite folder that embedded stores start as a copy of. PGlite's
 * initdb takes seconds of CPU (7 s on an idle 2-core machine), a copy
 * milliseconds, and the suite opens dozens of stores. The copy holds no
 * migrations, so each store still migrates itself.
 */
import { cpSync, existsSync } from 'node:fs';

/** Where the template is (made by test/support/suite-setup.ts). */
export const PGLITE_TEMPLATE_ENV = 'TGPULSE_TEST_PGLITE_TEMPLATE';

/** Creates an embedded store's folder at `path` from the template; without one the store makes it itself. */
export function seedEmbeddedFolder(path: string): void {
  const template = process.env[PGLITE_TEMPLATE_ENV];
  if (template && existsSync(template) && !existsSync(path)) cpSync(template, path, { recursive: true });
}
