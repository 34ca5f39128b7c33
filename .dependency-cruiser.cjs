// The layer rules of ARCHITECTURE.md, checked by `npm run check:deps` (dependency-cruiser).
// packages/ ← services/ ← apps/ : an arrow points from what may be imported to its importer.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycle, type-only ones included: split the shared part into its own module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'packages-import-only-packages',
      severity: 'error',
      comment:
        'A package is a library: it never imports a service or an app (move the shared part into a package). ' +
        'The test kit is the exception: like test/, it may import anything (its stack runs every service).',
      from: { path: '^packages/', pathNot: '^packages/testkit/' },
      to: { path: '^(services|apps)/' },
    },
    {
      name: 'services-do-not-import-each-other',
      severity: 'error',
      comment: 'A stage service imports only packages: what two services need belongs in a package.',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'services-do-not-import-apps',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-do-not-import-each-other',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'production-code-does-not-import-tests',
      severity: 'error',
      comment:
        'Nothing under a production src/ imports vitest, the test kit, or a test file (the kit is not production).',
      from: {
        path: '^(packages|services|apps)/[^/]+/src/',
        pathNot: ['\\.test\\.ts$', '^packages/testkit/'],
      },
      to: { path: ['node_modules/(vitest|@vitest)/', '^packages/testkit/', '\\.test\\.ts$'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: {
      path: [
        '^(packages|services|apps)/[a-z-]+/dist/',
        '^(test|bench)/dist/',
        '^bench/[.]data/',
        '^test/artifacts/',
      ],
    },
    // Type-only imports count: a cycle of types is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@rfbatch/source', 'import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    combinedDependencies: false,
  },
};
