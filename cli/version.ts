/**
 * The version of this tgpulse, from package.json: backups record it, so a
 * refused restore can say which version made the backup.
 */
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from './project-root.ts';

export const TGPULSE_VERSION: string = (
  JSON.parse(readFileSync(new URL('package.json', PROJECT_ROOT), 'utf8')) as { version: string }
).version;
