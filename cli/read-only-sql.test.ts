import { describe, expect, it } from 'vitest';
import { checkReadOnlySql } from './read-only-sql.ts';

describe('tgpulse query accepts only one read-only statement', () => {
  it('accepts SELECT, WITH, SHOW and DESCRIBE, dropping a trailing semicolon', () => {
    expect(checkReadOnlySql('  SELECT 1;')).toBe('SELECT 1');
    expect(checkReadOnlySql('-- note\nWITH x AS (SELECT 1) SELECT * FROM x')).toMatch(/^WITH/);
    expect(checkReadOnlySql('show tables')).toBe('show tables');
    expect(checkReadOnlySql('DESCRIBE raw_posts')).toBe('DESCRIBE raw_posts');
  });
  it('keeps semicolons inside string literals', () => {
    expect(checkReadOnlySql("SELECT ';' AS s")).toBe("SELECT ';' AS s");
  });
  it('refuses writes, DDL, several statements and INTO OUTFILE', () => {
    expect(() => checkReadOnlySql('INSERT INTO t VALUES (1)')).toThrow(/read-only/);
    expect(() => checkReadOnlySql('DROP TABLE raw_posts')).toThrow(/read-only/);
    expect(() => checkReadOnlySql('SELECT 1; DROP TABLE raw_posts')).toThrow(/one statement/);
    expect(() => checkReadOnlySql("SELECT 1 INTO OUTFILE '/tmp/x'")).toThrow(/OUTFILE/);
    expect(() => checkReadOnlySql('   ')).toThrow(/empty/);
  });
});
