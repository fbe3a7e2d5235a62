/**
 * The built web app (`dist-web/`, made by scripts/build-web.sh) as the API
 * serves it: index.html and the hashed files under assets/, kept in memory
 * once read (the bundle is a few hundred KB). index.html is re-read when it
 * changes on disk, so a rebuild shows without a restart; an asset's name
 * carries its content hash, so once read it never changes.
 *
 * Only names a build produces are served: plain file names under assets/
 * with a known extension. Anything else (`..`, percent-encoding, backslashes,
 * dot files, NUL) is refused before the file system is asked, and the
 * resolved path must still lie inside assets/.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/** Content types by extension: the only files served. */
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** A path segment as a build writes them: letters, digits, `.`, `_`, `-`, not starting with a dot. */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export interface WebAsset {
  body: Buffer;
  contentType: string;
}

/**
 * The relative path an `/assets/…` request names, from the URL as sent
 * (not decoded), or null when it is not one a build could have written.
 *
 * @example assetPath('index-4f2a.js') // 'index-4f2a.js'
 * @example assetPath('..%2Findex.html') // null
 */
export function assetPath(raw: string): string | null {
  const segments = raw.split('/');
  if (segments.length > 4 || !segments.every((s) => SEGMENT.test(s))) return null;
  return Object.hasOwn(CONTENT_TYPES, extname(raw)) ? segments.join('/') : null;
}

/** The built web app under `root`; every method answers null while it is not built. */
export class WebFiles {
  #index: { mtimeMs: number; size: number; body: Buffer } | null = null;
  readonly #assets = new Map<string, WebAsset>();

  /** @param root absolute path of the build (`<repo>/dist-web`); undefined when the API serves no web app. */
  constructor(readonly root: string | undefined) {}

  /** index.html, from memory unless it changed on disk since it was read. */
  async index(): Promise<Buffer | null> {
    if (this.root === undefined) return null;
    const path = join(this.root, 'index.html');
    const info = await stat(path).catch(() => null);
    if (info === null || !info.isFile()) return null;
    const known = this.#index;
    if (known !== null && known.mtimeMs === info.mtimeMs && known.size === info.size) return known.body;
    const body = await readFile(path).catch(() => null);
    if (body === null) return null;
    this.#index = { mtimeMs: info.mtimeMs, size: info.size, body };
    return body;
  }

  /** The asset a URL path after `/assets/` names (see {@link assetPath}), or null. */
  async asset(raw: string): Promise<WebAsset | null> {
    const rel = assetPath(raw);
    if (rel === null || this.root === undefined) return null;
    const known = this.#assets.get(rel);
    if (known) return known;
    const dir = resolve(this.root, 'assets');
    const file = resolve(dir, rel);
    // A symbolic link inside assets/ must not lead out of it either.
    const real = await realpath(file).catch(() => null);
    const realDir = await realpath(dir).catch(() => null);
    if (real === null || realDir === null || !real.startsWith(realDir + sep)) return null;
    const body = await readFile(real).catch(() => null);
    if (body === null) return null;
    const asset = { body, contentType: CONTENT_TYPES[extname(rel)] };
    this.#assets.set(rel, asset);
    return asset;
  }
}
