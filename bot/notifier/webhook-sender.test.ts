import { createHmac } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookTarget } from '../../control/webhooks.ts';
import { silentLogger } from '../../observability/log.ts';
import { WebhookReceiver } from '../../test/support/webhook-receiver.ts';
import { webhookBody, webhookHeaders } from './webhook-payload.ts';
import { retryAfterMs, WebhookGone, WebhookRejected, WebhookSender } from './webhook-sender.ts';

const CAPTION =
  '🔻 <b>subscribers lost: drop</b> · warning\nChannel <code>1001</code>\nWhy: a &lt;b&gt; &amp; @everyone &quot;x&quot;';

describe('webhook bodies and signatures', () => {
  it('turn the alert text into Slack mrkdwn (HTML escapes kept) and Discord markdown (plain, no pings)', () => {
    const slack = JSON.parse(webhookBody('slack', CAPTION));
    expect(slack.text).toBe(
      '🔻 *subscribers lost: drop* · warning\nChannel `1001`\nWhy: a &lt;b&gt; &amp; @everyone "x"',
    );
    expect(slack.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: slack.text } }]);
    const discord = JSON.parse(webhookBody('discord', CAPTION));
    expect(discord.content).toBe('🔻 **subscribers lost: drop** · warning\nChannel `1001`\nWhy: a <b> & @everyone "x"');
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(JSON.parse(webhookBody('discord', 'x'.repeat(5000))).content).toHaveLength(1900);
  });

  it('sign "{timestamp}.{raw body}" with the secret, the timestamp in seconds in its own header', () => {
    const body = webhookBody('slack', CAPTION);
    const h = webhookHeaders('whsec_k', body, 'a1:opened', 1_767_000_000_999);
    expect(h['x-tgpulse-timestamp']).toBe('1767000000');
    expect(h['x-tgpulse-delivery']).toBe('a1:opened');
    const mac = createHmac('sha256', 'whsec_k').update(`1767000000.${body}`).digest('hex');
    expect(h['x-tgpulse-signature']).toBe(`sha256=${mac}`);
  });

  it('read Retry-After as seconds or an HTTP date, capped, 1 s when unreadable', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(retryAfterMs('86400', now)).toBe(300_000);
    expect(retryAfterMs(null, now)).toBe(1000);
    expect(retryAfterMs('soon', now)).toBe(1000);
  });
});

describe('posting to a webhook', () => {
  const receiver = new WebhookReceiver();
  /** Accepts connections and never answers. */
  let silent: Server;
  let silentUrl: string;
  const sockets: Socket[] = [];
  const stop = new AbortController();
  const sender = new WebhookSender({ signal: stop.signal, log: silentLogger, attempts: 2, timeoutMs: 300 });
  const target = (path: string, id = 1): WebhookTarget => ({
    id,
    key: `webhook:${id}`,
    url: `${receiver.url}${path}`,
    format: 'slack',
    channelId: '1001',
    metrics: null,
    minSeverity: 'info',
    maxPerHour: 10,
    enabled: true,
    disabledReason: null,
    createdAt: 0,
    secret: 'whsec_k',
  });

  beforeAll(async () => {
    await receiver.start();
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    stop.abort();
    await receiver.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('reports a gone or refusing destination, and a refused alert, without retrying', async () => {
    receiver.always('/gone', { status: 404, body: 'no_service' });
    receiver.always('/auth', { status: 401 });
    receiver.always('/bad', { status: 400, body: 'invalid_payload' });
    await expect(sender.post(target('/gone', 2), '{}', 'a:opened')).rejects.toThrow(WebhookGone);
    await expect(sender.post(target('/auth', 3), '{}', 'a:opened')).rejects.toThrow(WebhookGone);
    const err = await sender.post(target('/bad', 4), '{}', 'a:opened').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookRejected);
    expect((err as WebhookRejected).reason).toBe('HTTP 400: invalid_payload');
    expect(['/gone', '/auth', '/bad'].map((p) => receiver.to(p).length)).toEqual([1, 1, 1]);
  });

  it('does not follow a redirect', async () => {
    receiver.always('/moved', { status: 302, headers: { location: `${receiver.url}/elsewhere` } });
    await expect(sender.post(target('/moved', 5), '{}', 'a:opened')).rejects.toThrow(WebhookRejected);
    expect(receiver.to('/elsewhere')).toEqual([]);
  });

  it('gives up on a destination that does not answer after its attempts, naming it without its path', async () => {
    const hanging = { ...target('/', 6), url: `${silentUrl}/T000/SECRETPART` };
    const err = await sender.post(hanging, '{}', 'a:opened').catch((e: unknown) => e);
    expect(String(err)).toMatch(/webhook 6 \(http:\/\/127\.0\.0\.1:\d+\/hook\/…\) failed 2 times, last: TimeoutError/);
    expect(String(err)).not.toContain('SECRETPART');
  });
});
