import { expect, it } from 'vitest';
import { backupId, migrationMismatch, parseManifest } from './manifest.ts';

const code = [
  { version: 1, name: 'raw_tables', checksum: 'a'.repeat(64) },
  { version: 2, name: 'derived_tables', checksum: 'b'.repeat(64) },
];

it('accepts exactly the migrations of this code, and says what differs otherwise', () => {
  expect(migrationMismatch('warehouse', code, code)).toBeNull();
  expect(migrationMismatch('warehouse', code.slice(0, 1), code)).toMatch(
    /lacks migrations 2 \(derived_tables\): it was made by an older tgpulse; restore it with that version/,
  );
  expect(
    migrationMismatch('control plane', [...code, { version: 3, name: 'later', checksum: 'c'.repeat(64) }], code),
  ).toMatch(/has migration 3 \(later\), which this tgpulse does not have: it was made by a newer version/);
  expect(migrationMismatch('warehouse', [code[0], { ...code[1], checksum: 'f'.repeat(64) }], code)).toBe(
    `the warehouse of this backup applied migration 2 (derived_tables) with checksum ffffffffffff…, this tgpulse has bbbbbbbbbbbb…: it was made from a different schema`,
  );
});

it('reads a manifest of this format and names the first field that is wrong', () => {
  const good = {
    format: 1,
    id: 'tgpulse-20261207T101603Z-0d2268',
    base: null,
    files: [{ path: 'warehouse/x.tar', bytes: 3, sha256: 'a' }],
    streams: [{ name: 'TG_RAW', file: 'nats/TG_RAW.snapshot', config: {}, state: {} }],
    control: { file: 'control.jsonl', migrations: [] },
    warehouse: { database: 'tgpulse', migrations: [] },
  };
  expect(parseManifest(good, 'm').id).toBe(good.id);
  const cases: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [{ ...good, format: 2 }, /format 2, this tgpulse reads 1/],
    [{ ...good, id: "x'; DROP" }, /\(id\)/],
    [{ ...good, files: [{ path: '../etc/passwd', bytes: 1, sha256: 'a' }] }, /\(files\)/],
    [{ ...good, files: [{ path: '/abs', bytes: 1, sha256: 'a' }] }, /\(files\)/],
    [{ ...good, streams: [{}] }, /\(streams\)/],
    [{ ...good, control: {} }, /\(control\)/],
    [{ ...good, warehouse: { database: 'tgpulse' } }, /\(warehouse\)/],
    [{ ...good, base: { id: 'x' } }, /\(base\)/],
  ];
  for (const [value, error] of cases) expect(() => parseManifest(value, 'manifest.json')).toThrow(error);
});

it('makes sortable ids that are plain names', () => {
  expect(backupId(Date.UTC(2026, 11, 7, 10, 16, 3, 456), 'ab12cd')).toBe('tgpulse-20261207T101603Z-ab12cd');
  expect(backupId(Date.UTC(2026, 0, 1), 'x') < backupId(Date.UTC(2026, 0, 2), 'x')).toBe(true);
});
