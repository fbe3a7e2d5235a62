// Boundaries between folders, from layers.json (the one table; ARCHITECTURE.md shows it
// and scripts/check-architecture.mjs keeps the two equal). Run by `npm run lint`.
const { modules } = require('./layers.json');

const TESTS = '(\\.test\\.ts$|^test/|^bench/)';
const names = Object.keys(modules);
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Modules nested in `m` (ingest/mtproto in ingest). */
const nestedIn = (m) => names.filter((n) => n.startsWith(`${m}/`));
/** Files of `m` itself, not of a module nested in it. */
const ownFiles = (m) => {
  const nested = nestedIn(m).map((n) => escape(n.slice(m.length + 1)));
  return nested.length ? `^${escape(m)}/(?!(${nested.join('|')})/)` : `^${escape(m)}/`;
};

const layerRules = names.map((m) => ({
  name: `layers:${m}`,
  severity: 'error',
  comment:
    `${m} may import its own files, and only the index.ts of: ${modules[m].join(', ') || '(nothing)'}` +
    ' (layers.json). Another folder’s internals are reached through its index.ts, its public surface.',
  from: { path: ownFiles(m), pathNot: TESTS },
  to: {
    dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
    pathNot: [ownFiles(m), ...modules[m].map((d) => `^${escape(d)}/index\\.ts$`)],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle between production files makes load order matter and modules inseparable' +
        ' (cycles through type-only imports vanish at run time and are allowed).',
      from: { pathNot: TESTS },
      to: { circular: true, viaOnly: { pathNot: TESTS, dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-dev-dependency-in-production',
      severity: 'error',
      comment:
        'Production code runs without devDependencies installed (infra/ TypeScript generates files at development time).',
      from: { pathNot: [TESTS, '^scripts/', '^infra/', '^vitest\\.config\\.ts$', 'testing\\.ts$', '\\.fixtures?\\.ts$'] },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      comment: 'Production code does not load test support or benches.',
      from: { pathNot: TESTS },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve fails at run time.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'unknown-folder',
      severity: 'error',
      comment: 'Every production file belongs to a module of layers.json.',
      from: {
        path: '\\.ts$',
        pathNot: [TESTS, '^scripts/', '^vitest\\.config\\.ts$', ...names.map((m) => `^${escape(m)}/`)],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules is not excluded (its edges would vanish with it, and the devDependency rule with them).
    exclude: { path: '^(dist[^/]*|scratch|data)/' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'types', 'default'] },
  },
};
