import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts';

describe('configuration is read once and validated', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.streams.partitions).toBe(8);
    expect(c.warehouse.driver).toBe('embedded');
    expect(c.streams.natsUrl).toBe('nats://127.0.0.1:4222');
  });

  it('names the variable and what it expects on a bad value', () => {
    expect(() => loadConfig({ TGPULSE_PARTITIONS: 'eight' })).toThrow(ConfigError);
    expect(() => loadConfig({ TGPULSE_PARTITIONS: '0' })).toThrow(/TGPULSE_PARTITIONS="0" is invalid: expected an integer from 1 to 99/);
    expect(() => loadConfig({ TGPULSE_WAREHOUSE: 'sqlite' })).toThrow(/TGPULSE_WAREHOUSE.*one of embedded, server/);
    expect(() => loadConfig({ TGPULSE_NATS_AUTOSTART: 'maybe' })).toThrow(/true or false/);
    expect(() => loadConfig({ TGPULSE_WAREHOUSE: 'server', TGPULSE_CLICKHOUSE_URL: 'ftp://x' })).toThrow(/TGPULSE_CLICKHOUSE_URL/);
  });

  it('documents every variable in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const v of CONFIG_VARIABLES) expect(readme, v.name).toContain(`\`${v.name}\``);
  });
});
