/**
 * A role's logs as a process writes them: `TGPULSE_LOG_FORMAT` read by the
 * configuration, applied by the Context every role opens. Pretty at a
 * terminal (a pseudo-terminal from script(1)), JSON into a pipe.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** What a role does first: read the configuration, open the Context, log. */
const ROLE = [
  "import { loadConfig } from './cli/config.ts';",
  "import { Context } from './cli/context.ts';",
  'const ctx = new Context(loadConfig());',
  "ctx.log.info({ channel_id: '1001234567' }, 'role started');",
].join('\n');
const ARGS = ['--import', 'tsx', '--input-type=module', '-e', ROLE];

/** The role's stderr, written into a pipe. */
function logsIntoPipe(env: Record<string, string>): string {
  const { TGPULSE_LOG_FORMAT: _, ...inherited } = process.env;
  const r = spawnSync(process.execPath, ARGS, {
    cwd: ROOT,
    env: { ...inherited, NO_COLOR: '1', ...env },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

describe('a role logs', () => {
  it('JSON into a pipe, one object per line', () => {
    const line = JSON.parse(logsIntoPipe({}).trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'role started', channel_id: '1001234567', name: 'tgpulse' });
  });

  it('pretty lines with TGPULSE_LOG_FORMAT=pretty, wherever they go', () => {
    const text = logsIntoPipe({ TGPULSE_LOG_FORMAT: 'pretty' });
    const [first] = text.split('\n');
    expect(() => JSON.parse(first)).toThrow();
    expect(first).toMatch(/INFO \(tgpulse\/\d+\): role started$/);
    expect(text).toContain('channel_id: "1001234567"');
  });

  it.skipIf(!existsSync('/usr/bin/script'))('pretty lines at a terminal when no format is set', () => {
    const { TGPULSE_LOG_FORMAT: _, ...inherited } = process.env;
    // script(1) runs the role on a pseudo-terminal and copies what it shows to stdout.
    const command = [process.execPath, ...ARGS].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const r = spawnSync('/usr/bin/script', ['-qefc', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...inherited, NO_COLOR: '1' },
      encoding: 'utf8',
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/INFO \(tgpulse\/\d+\): role started\r?\n/);
    expect(r.stdout).not.toContain('"msg"');
  });
});
