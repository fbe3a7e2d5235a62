import { describe, expect, it } from 'vitest';
import { redactUrl } from '../common/index.ts';
import { natsServers } from './nats-servers.ts';

describe('TGPULSE_NATS_URL', () => {
  it('takes the credentials out of the first URL that carries them, for every server', () => {
    expect(natsServers('nats://tgpulse:s3cr%40t@nats-1:4222, nats://nats-2:4222')).toEqual({
      servers: ['nats://nats-1:4222', 'nats://nats-2:4222'],
      user: 'tgpulse',
      pass: 's3cr@t',
    });
    expect(natsServers('127.0.0.1:4222')).toEqual({ servers: ['127.0.0.1:4222'] });
    expect(natsServers('nats://reader@h:4222')).toEqual({ servers: ['nats://h:4222'], user: 'reader' });
  });

  it('never shows a password in what it logs', () => {
    expect(redactUrl('nats://tgpulse:s3cret@nats-1:4222,nats://nats-2:4222')).toBe(
      'nats://tgpulse:***@nats-1:4222,nats://nats-2:4222',
    );
    expect(redactUrl('postgres://u:p@db:5432/tg')).toBe('postgres://u:***@db:5432/tg');
    expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
  });
});
