/**
 * Vite build of the web app (scripts/build-web.sh runs it; the API serves the
 * output at `/`). The Vega runtime (vega, vega-embed, vega-interpreter:
 * everything the app takes from node_modules; Vega-Lite is left out, see
 * src/no-vega-lite.ts) goes into one chunk named `vega-…`, loaded on demand
 * when the first chart is drawn, so the first paint never waits for it and
 * bench/web.ts can tell it from app code.
 *
 * A plain object rather than `defineConfig`: importing vite here would make
 * this file a production module depending on a devDependency.
 */

interface BundledFile {
  type: string;
  fileName: string;
}

/**
 * A `modulepreload` hint for the Vega chunk in index.html: the browser fetches
 * and compiles it beside the app's own code, at low cost to the first paint
 * (a hint is not a script: nothing waits for it), instead of only when the
 * app asks for it, behind the page's first API requests.
 */
const preloadVega = {
  name: 'tgpulse-preload-vega',
  transformIndexHtml: {
    order: 'post' as const,
    handler(_html: string, ctx: { bundle?: Record<string, BundledFile> }) {
      const vega = Object.values(ctx.bundle ?? {}).find((f) => f.type === 'chunk' && /^assets\/vega-/.test(f.fileName));
      return vega
        ? [{ tag: 'link', attrs: { rel: 'modulepreload', href: `/${vega.fileName}` }, injectTo: 'head' as const }]
        : [];
    },
  },
};

export default {
  root: import.meta.dirname,
  base: '/',
  // No public/ folder: everything is bundled.
  publicDir: false,
  plugins: [preloadVega],
  resolve: { alias: { 'vega-lite': `${import.meta.dirname}/src/no-vega-lite.ts` } },
  build: {
    // build-web.sh passes --outDir (a temporary folder it swaps in).
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The Vega chunk is large by nature; the app's own budget is checked by bench:web.
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [{ name: 'vega', test: /[\\/]node_modules[\\/]/ }],
        },
      },
    },
  },
};
