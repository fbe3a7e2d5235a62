import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetPath, WebFiles } from './web-files.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tgpulse-web-'));
  await mkdir(join(dir, 'dist', 'assets', 'fonts'), { recursive: true });
  await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>one</title>');
  await writeFile(join(dir, 'dist', 'assets', 'index-AbC123.js'), 'console.log(1)');
  await writeFile(join(dir, 'dist', 'assets', 'fonts', 'dejavu-9f.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
  await writeFile(join(dir, 'secret.js'), 'the key');
  await symlink(join(dir, 'secret.js'), join(dir, 'dist', 'assets', 'leak.js'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('assetPath', () => {
  it('takes the names a build writes', () => {
    expect(assetPath('index-AbC123.js')).toBe('index-AbC123.js');
    expect(assetPath('vega-x_1.css')).toBe('vega-x_1.css');
    expect(assetPath('fonts/dejavu-9f.woff2')).toBe('fonts/dejavu-9f.woff2');
  });

  it('refuses traversal, encodings, dot files, other extensions and odd bytes', () => {
    for (const raw of [
      '../index.html',
      '..%2Findex.html',
      '%2e%2e/x.js',
      'a/../b.js',
      './a.js',
      '.hidden.js',
      'a%00.js',
      'a\u0000.js',
      'a\\..\\b.js',
      '/etc/passwd.js',
      'a//b.js',
      '',
      'index.html',
      'x.exe',
      'js',
      `${'a'.repeat(300)}.js`,
    ])
      expect(assetPath(raw), JSON.stringify(raw)).toBeNull();
  });
});

describe('WebFiles', () => {
  it('serves assets by extension, from memory once read', async () => {
    const web = new WebFiles(join(dir, 'dist'));
    const js = await web.asset('index-AbC123.js');
    expect(js).toEqual({ body: Buffer.from('console.log(1)'), contentType: 'text/javascript; charset=utf-8' });
    await writeFile(join(dir, 'dist', 'assets', 'index-AbC123.js'), 'changed on disk');
    expect((await web.asset('index-AbC123.js'))?.body.toString()).toBe('console.log(1)');
    expect((await web.asset('fonts/dejavu-9f.woff2'))?.contentType).toBe('font/woff2');
    expect(await web.asset('missing-1.js')).toBeNull();
  });

  it('does not follow a symbolic link out of assets/', async () => {
    expect(await new WebFiles(join(dir, 'dist')).asset('leak.js')).toBeNull();
  });

  it('re-reads index.html when it changes on disk', async () => {
    const web = new WebFiles(join(dir, 'dist'));
    expect((await web.index())?.toString()).toBe('<!doctype html><title>one</title>');
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>two</title>');
    // A rebuild within the file system's timestamp resolution still changes the mtime we compare.
    await utimes(join(dir, 'dist', 'index.html'), new Date(), new Date(Date.now() + 5000));
    expect((await web.index())?.toString()).toBe('<!doctype html><title>two</title>');
  });

  it('answers null when nothing is built or no web root is configured', async () => {
    expect(await new WebFiles(join(dir, 'nothing-here')).index()).toBeNull();
    expect(await new WebFiles(join(dir, 'nothing-here')).asset('index-AbC123.js')).toBeNull();
    expect(await new WebFiles(undefined).index()).toBeNull();
  });
});
