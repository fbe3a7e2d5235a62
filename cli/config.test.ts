import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts';
import { loadCoreConfig } from './core-config.ts';

describe('configuration is read once and validated', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.streams.partitions).toBe(8);
    expect(c.warehouse).toMatchObject({ driver: 'local', database: 'tgpulse', httpPort: 8123, nativePort: 9000 });
    // Without TGPULSE_NATS_URL the data folder's private nats-server is used, never whatever answers on :4222.
    expect(c.explicitNatsUrl).toBe(null);
    const explicit = loadConfig({ TGPULSE_NATS_URL: 'nats://10.0.0.1:4222' });
    expect(explicit.explicitNatsUrl).toBe('nats://10.0.0.1:4222');
    expect(explicit.streams.natsUrl).toBe('nats://10.0.0.1:4222');
  });

  it('names the variable and what it expects on a bad value', () => {
    expect(() => loadConfig({ TGPULSE_PARTITIONS: 'eight' })).toThrow(ConfigError);
    expect(() => loadConfig({ TGPULSE_PARTITIONS: '0' })).toThrow(
      /TGPULSE_PARTITIONS="0" is invalid: expected an integer from 1 to 99/,
    );
    expect(() => loadConfig({ TGPULSE_WAREHOUSE: 'sqlite' })).toThrow(/TGPULSE_WAREHOUSE.*one of local, server/);
    expect(() => loadConfig({ TGPULSE_API_PORT: 'maybe' })).toThrow(/TGPULSE_API_PORT/);
    expect(() => loadConfig({ TGPULSE_CLICKHOUSE_DATABASE: 'x; DROP' })).toThrow(/TGPULSE_CLICKHOUSE_DATABASE/);
    expect(() => loadConfig({ TGPULSE_WAREHOUSE: 'server', TGPULSE_CLICKHOUSE_URL: 'ftp://x' })).toThrow(
      /TGPULSE_CLICKHOUSE_URL/,
    );
    expect(() => loadConfig({ TGPULSE_NATS_URL: 'http://x' })).toThrow(/TGPULSE_NATS_URL/);
  });

  it('reads the log format and the stop deadline', () => {
    // Unset: chosen by whether stderr is a terminal (observability's chooseLogFormat).
    expect(loadCoreConfig({}).logFormat).toBe(null);
    expect(loadCoreConfig({ TGPULSE_LOG_FORMAT: '' }).logFormat).toBe(null);
    expect(loadCoreConfig({ TGPULSE_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadCoreConfig({ TGPULSE_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => loadCoreConfig({ TGPULSE_LOG_FORMAT: 'yaml' })).toThrow(/TGPULSE_LOG_FORMAT.*one of pretty, json/);
    expect(loadConfig({}).stopDeadlineMs).toBe(25_000);
    expect(loadConfig({ TGPULSE_STOP_DEADLINE_S: '3' }).stopDeadlineMs).toBe(3000);
    expect(() => loadConfig({ TGPULSE_STOP_DEADLINE_S: '0' })).toThrow(/TGPULSE_STOP_DEADLINE_S/);
  });

  it('gives the light commands the same core as the roles', () => {
    const env = { TGPULSE_DATA_DIR: '/tmp/x', TGPULSE_NATS_URL: 'nats://10.0.0.1:4222', TGPULSE_WAREHOUSE: 'server' };
    const { dataDir, logLevel, logFormat, explicitNatsUrl, warehouse, control } = loadConfig(env);
    expect(loadCoreConfig(env)).toEqual({ dataDir, logLevel, logFormat, explicitNatsUrl, warehouse, control });
    expect(() => loadCoreConfig({ TGPULSE_POSTGRES_URL: 'mysql://x' })).toThrow(/TGPULSE_POSTGRES_URL/);
  });

  it('documents every variable in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const v of CONFIG_VARIABLES) expect(readme, v.name).toContain(`\`${v.name}\``);
  });
});
