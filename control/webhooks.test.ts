import { expect, it } from 'vitest';
import { ControlError } from './errors.ts';
import { embeddedControlForSuite } from './testing.ts';
import {
  addWebhook,
  channelWebhooks,
  checkWebhookUrl,
  disableWebhook,
  listWebhooks,
  redactWebhookUrl,
  removeWebhook,
  webhookFormatFor,
} from './webhooks.ts';

const control = embeddedControlForSuite();
const pool = () => control().pool;
const SLACK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXX';

it('accepts https URLs, and plain http only to a loopback address', () => {
  expect(checkWebhookUrl(` ${SLACK}#frag `)).toBe(SLACK);
  expect(checkWebhookUrl('http://127.0.0.1:8080/hook')).toBe('http://127.0.0.1:8080/hook');
  expect(checkWebhookUrl('http://localhost/hook')).toBe('http://localhost/hook');
  expect(checkWebhookUrl('http://[::1]:9/x')).toBe('http://[::1]:9/x');
  for (const [url, problem] of [
    ['http://hooks.example.com/x', /https/],
    ['ftp://127.0.0.1/x', /https/],
    ['hooks.slack.com/services/x', /absolute URL/],
    ['https://user:pass@example.com/x', /no user or password/],
    [`https://example.com/${'a'.repeat(2100)}`, /2048/],
  ] as const)
    expect(() => checkWebhookUrl(url), url).toThrow(problem);
});

it('picks Discord JSON for Discord hosts and Slack JSON otherwise, and cuts URLs short for display', () => {
  expect(webhookFormatFor('https://discord.com/api/webhooks/1/abc')).toBe('discord');
  expect(webhookFormatFor('https://canary.discordapp.com/api/webhooks/1/abc')).toBe('discord');
  expect(webhookFormatFor('https://notdiscord.com/api')).toBe('slack');
  expect(webhookFormatFor(SLACK)).toBe('slack');
  expect(redactWebhookUrl(SLACK)).toBe('https://hooks.slack.com/services/…');
  expect(redactWebhookUrl('https://example.com')).toBe('https://example.com');
});

it('adds a destination with a fresh secret; adding it again keeps its id, rotates the secret and re-enables it', async () => {
  const first = await addWebhook(pool(), { url: SLACK, channelId: '1001', minSeverity: 'info', createdBy: 'cli' });
  expect(first.secret).toMatch(/^whsec_[\w-]{43}$/);
  expect(first.webhook).toMatchObject({
    key: `webhook:${first.webhook.id}`,
    format: 'slack',
    channelId: '1001',
    minSeverity: 'info',
    metrics: null,
    maxPerHour: 10,
    enabled: true,
  });
  expect(await disableWebhook(pool(), first.webhook.id, 'HTTP 410')).toBe(true);
  expect(await channelWebhooks(pool(), '1001')).toEqual([]);
  expect((await listWebhooks(pool()))[0]).toMatchObject({ enabled: false, disabledReason: 'HTTP 410' });

  const again = await addWebhook(pool(), { url: SLACK, channelId: '1001', metrics: ['views'], createdBy: 'cli' });
  expect(again.webhook.id).toBe(first.webhook.id);
  expect(again.secret).not.toBe(first.secret);
  const [target] = await channelWebhooks(pool(), '1001');
  expect(target).toMatchObject({ id: first.webhook.id, secret: again.secret, metrics: ['views'], enabled: true });

  // The audit log names the webhook and its host, never the URL (it holds the destination's credential).
  const { rows } = await pool().query<{ t: string }>(
    "SELECT concat_ws(' ', target, details::text) AS t FROM audit_log WHERE action LIKE 'alert_webhook.%'",
  );
  expect(rows.length).toBeGreaterThanOrEqual(3);
  for (const r of rows) expect(r.t).not.toContain('XXXXXXXX');

  expect(await removeWebhook(pool(), first.webhook.id, { actor: 'cli' })).toBe(true);
  expect(await removeWebhook(pool(), first.webhook.id, { actor: 'cli' })).toBe(false);
  expect(await listWebhooks(pool())).toEqual([]);
});

it('names the invalid field', async () => {
  const bad = (over: object) => addWebhook(pool(), { url: SLACK, channelId: '1001', createdBy: 'cli', ...over });
  for (const [over, field] of [
    [{ url: 'http://example.com' }, 'url'],
    [{ channelId: '@name' }, 'channelId'],
    [{ format: 'teams' }, 'format'],
    [{ minSeverity: 'loud' }, 'minSeverity'],
    [{ metrics: [] }, 'metrics'],
    [{ maxPerHour: 0 }, 'maxPerHour'],
  ] as const) {
    const err = await bad(over).catch((e: unknown) => e);
    expect(err, JSON.stringify(over)).toBeInstanceOf(ControlError);
    expect((err as ControlError).field).toBe(field);
  }
});
