/**
 * The project's root folder (package.json, dist/, dist-web/), from source
 * (cli/*.ts) or compiled (dist/cli/*.js, see scripts/build.sh), where the
 * root is one level further up.
 */
export const PROJECT_ROOT = new URL(import.meta.url.endsWith('.js') ? '../../' : '../', import.meta.url);
