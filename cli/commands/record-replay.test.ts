/**
 * The command lines of `tgpulse record` and `tgpulse replay`: what they
 * accept, and that a wrong invocation or a missing capture is a usage error
 * (exit 2) with a message saying what is wrong, before anything connects.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { testConfig } from '../../test/support/pipeline.ts';
import { tempDir } from '../../test/support/nats.ts';
import { CATALOG, COMMANDS } from './index.ts';
import { parseRecordArgs } from './record.ts';
import { parseReplayArgs } from './replay.ts';

const dir = tempDir('cli-replay');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tgpulse record arguments', () => {
  it('takes a file, where to start and an idle limit', () => {
    expect(parseRecordArgs(['cap.jsonl'])).toEqual({
      ok: true,
      args: { file: 'cap.jsonl', from: 'new', idleMs: undefined, append: false },
    });
    expect(parseRecordArgs(['cap.jsonl', '--from', 'all', '--idle-seconds', '2.5', '--append'])).toEqual({
      ok: true,
      args: { file: 'cap.jsonl', from: 'all', idleMs: 2500, append: true },
    });
    expect(parseRecordArgs(['--from', '2026-03-01T12:00:00Z', 'cap.jsonl'])).toMatchObject({
      ok: true,
      args: { from: Date.UTC(2026, 2, 1, 12) },
    });
  });

  it.each([
    [[], /missing FILE/],
    [['a.jsonl', 'b.jsonl'], /one FILE/],
    [['a.jsonl', '--from', 'yesterday'], /--from expects new, all or an ISO time/],
    [['a.jsonl', '--from', '2026-13-45'], /--from expects/],
    [['a.jsonl', '--idle-seconds', '0'], /--idle-seconds expects/],
    [['a.jsonl', '--idle-seconds', 'soon'], /--idle-seconds expects/],
    [['a.jsonl', '--speed', '5'], /Unknown option '--speed'/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseRecordArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });
});

describe('tgpulse replay arguments', () => {
  it('takes a file and a speed, max by default', () => {
    expect(parseReplayArgs(['cap.jsonl'])).toEqual({ ok: true, args: { file: 'cap.jsonl', speed: Infinity } });
    expect(parseReplayArgs(['cap.jsonl', '--speed', '60'])).toEqual({
      ok: true,
      args: { file: 'cap.jsonl', speed: 60 },
    });
    expect(parseReplayArgs(['--speed=0.5', 'cap.jsonl'])).toEqual({
      ok: true,
      args: { file: 'cap.jsonl', speed: 0.5 },
    });
    expect(parseReplayArgs(['cap.jsonl', '--speed', 'max'])).toEqual({
      ok: true,
      args: { file: 'cap.jsonl', speed: Infinity },
    });
  });

  it.each([
    [[], /missing FILE/],
    [['a.jsonl', '--speed', '0'], /--speed expects a number above 0/],
    [['a.jsonl', '--speed=-3'], /--speed expects/],
    [['a.jsonl', '--speed', 'fast'], /--speed expects/],
    [['a.jsonl', '--speed', 'Infinity'], /--speed expects/],
    [['a.jsonl', '--from', 'all'], /Unknown option '--from'/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseReplayArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });
});

describe('running the commands', () => {
  // Nothing listens here: a command that tried to connect would fail differently.
  const config = testConfig({ TGPULSE_NATS_URL: 'nats://127.0.0.1:1', TGPULSE_DATA_DIR: dir });
  let stderr: MockInstance<typeof process.stderr.write>;
  beforeEach(() => {
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());
  const written = () => stderr.mock.calls.map((c) => String(c[0])).join('');

  it('are in the command table', () => {
    expect(CATALOG.record.usage).toMatch(/^tgpulse record FILE/);
    expect(CATALOG.replay.usage).toMatch(/^tgpulse replay FILE/);
  });

  it('a bad flag is a usage error with exit code 2', async () => {
    expect(await (await COMMANDS.replay()).run(['x.jsonl', '--speed', 'fast'], config)).toBe(2);
    expect(written()).toMatch(/tgpulse replay: --speed expects.*\nusage: tgpulse replay FILE/);
    expect(await (await COMMANDS.record()).run(['x.jsonl', '--nope'], config)).toBe(2);
    expect(written()).toMatch(/tgpulse record: Unknown option '--nope'/);
  });

  it('replaying a missing capture says so and exits 2', async () => {
    expect(await (await COMMANDS.replay()).run([join(dir, 'nowhere.jsonl')], config)).toBe(2);
    expect(written()).toMatch(/capture .*nowhere\.jsonl does not exist; captures are written by `tgpulse record FILE`/);
  });

  it('recording over an existing capture is refused unless appending', async () => {
    const existing = join(dir, 'existing.jsonl');
    writeFileSync(existing, '');
    expect(await (await COMMANDS.record()).run([existing], config)).toBe(2);
    expect(written()).toMatch(/existing\.jsonl already exists; choose another file, remove it, or pass --append/);
  });
});
