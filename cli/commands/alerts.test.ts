import { expect, it } from 'vitest';
import { channelWebhooks } from '../../control/webhooks.ts';
import { embeddedControlForSuite } from '../../control/testing.ts';
import { silentLogger } from '../../observability/log.ts';
import { loadCoreConfig } from '../core-config.ts';
import { runAlerts } from './alerts.ts';

const suite = embeddedControlForSuite();
const pool = () => suite().pool;

async function alerts(...argv: string[]) {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  // The control plane is handed over: the configuration only has to load.
  const config = loadCoreConfig({ TGPULSE_LOG_LEVEL: 'silent' });
  const code = await runAlerts(argv, config, { io, control: pool(), log: silentLogger });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

it('adds a webhook, printing its signing secret once, lists it with its URL cut short and removes it', async () => {
  const url = 'https://discord.com/api/webhooks/123/TOKENPART';
  const added = await alerts('webhook', 'add', url, '--channel', '1001', '--severity', 'critical');
  expect(added).toMatchObject({ code: 0, stderr: '' });
  const [hook] = await channelWebhooks(pool(), '1001');
  expect(hook).toMatchObject({ url, format: 'discord', minSeverity: 'critical' });
  expect(added.stdout).toContain(`Signing secret: ${hook.secret}`);
  expect(added.stdout).not.toContain('TOKENPART');

  const listed = await alerts('webhook', 'list');
  expect(listed.stdout).toContain('https://discord.com/api/…');
  expect(listed.stdout).not.toContain(hook.secret);
  expect(listed.stdout).not.toContain('TOKENPART');

  expect(await alerts('webhook', 'remove', String(hook.id))).toMatchObject({ code: 0 });
  expect(await alerts('webhook', 'remove', String(hook.id))).toMatchObject({ code: 1 });
  expect((await alerts('webhook', 'list')).stdout).toMatch(/No webhook destinations yet/);
});

it('explains what is wrong with an invocation', async () => {
  expect(await alerts('webhook', 'add', 'https://example.com/h')).toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/needs --channel ID[\s\S]*usage:/),
  });
  expect(await alerts('webhook', 'add', 'http://example.com/h', '--channel', '1')).toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/invalid url: expected an https URL/),
  });
  expect(await alerts('webhook', 'add', 'https://example.com/h', '--channel', '1', '--format', 'teams')).toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/--format must be one of slack, discord/),
  });
  expect((await alerts('chat', 'list')).code).toBe(2);
});
