import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION } from '../clickhouse/index.ts';
import { ConfigError, loadConfig } from './config.ts';

describe('the retention configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({}).retention).toEqual(DEFAULT_RETENTION);
    expect(DEFAULT_RETENTION).toEqual({
      rawSnapshotsDays: 90,
      rawPostsDays: 365,
      botEventsDays: 180,
      derivedDays: 180,
      deadLettersDays: 30,
    });
  });

  it('reads days per kind of row, 0 keeping them forever', () => {
    const r = loadConfig({
      TGPULSE_RETENTION_RAW_DAYS: '30',
      TGPULSE_RETENTION_POSTS_DAYS: '0',
      TGPULSE_RETENTION_BOT_EVENTS_DAYS: '7',
      TGPULSE_RETENTION_DERIVED_DAYS: '400',
      TGPULSE_RETENTION_DEAD_LETTERS_DAYS: '1',
    }).retention;
    expect(r).toEqual({
      rawSnapshotsDays: 30,
      rawPostsDays: 0,
      botEventsDays: 7,
      derivedDays: 400,
      deadLettersDays: 1,
    });
  });

  it('stops the start on a bad value, naming the variable', () => {
    expect(() => loadConfig({ TGPULSE_RETENTION_RAW_DAYS: '90d' })).toThrow(ConfigError);
    expect(() => loadConfig({ TGPULSE_RETENTION_RAW_DAYS: '90d' })).toThrow(
      /TGPULSE_RETENTION_RAW_DAYS="90d" is invalid: expected an integer from 0 to 36500/,
    );
    expect(() => loadConfig({ TGPULSE_RETENTION_DEAD_LETTERS_DAYS: '-1' })).toThrow(
      /TGPULSE_RETENTION_DEAD_LETTERS_DAYS/,
    );
    expect(() => loadConfig({ TGPULSE_RETENTION_DERIVED_DAYS: '1.5' })).toThrow(/TGPULSE_RETENTION_DERIVED_DAYS/);
  });
});
