/**
 * The layering of src/ (docs/architecture.md), checked by `npm run lint:deps` in `npm test`:
 * - match/ is pure: it decides from data and reads nothing;
 * - store/ knows no protocol (no SCIM, no OIDC, no guard);
 * - scim/ knows no framework and no guard;
 * - guard/ and match/ know no framework;
 * - only the adapters (src/express, src/koa) load a web framework or passport;
 * - no cycles anywhere.
 */
/** Resolved paths of the web frameworks and passport (dependency-cruiser matches resolved paths). */
const FRAMEWORKS = '(^|/)node_modules/(express|express-session|koa|koa-passport|koa-session|@koa/router|passport)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Folders and files depend on each other in one direction only.',
      from: { path: '^src' },
      to: { circular: true },
    },
    {
      name: 'match-is-pure',
      severity: 'error',
      comment: 'Matching decides from data: no store, guard, SCIM, dashboard, framework, network or file access.',
      from: { path: '^src/match/' },
      to: {
        path: ['^src/(store|guard|scim|dashboard|express|koa)/', '^src/(sso|connections|oidc-clients|matching-report)\\.ts$'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'match-imports-no-io',
      severity: 'error',
      from: { path: '^src/match/' },
      to: { path: '^(node:)?(fs|net|http|https|child_process)$|(^|/)node_modules/(ioredis|openid-client)/' },
    },
    {
      name: 'store-knows-no-protocol',
      severity: 'error',
      comment: 'Stores keep JSON and index entries; SCIM and OIDC semantics live above them.',
      from: { path: '^src/store/' },
      to: { path: ['^src/(scim|guard|match|dashboard|express|koa)/', '(^|/)node_modules/openid-client/'] },
    },
    {
      name: 'scim-knows-no-guard-or-framework',
      severity: 'error',
      from: { path: '^src/scim/' },
      to: { path: ['^src/(guard|match|dashboard|express|koa)/', FRAMEWORKS] },
    },
    {
      name: 'only-adapters-load-frameworks',
      severity: 'error',
      comment: 'The core (scim-sso) must load without express, koa or passport installed.',
      from: { path: '^src/', pathNot: '^src/(express|koa)/' },
      to: { path: FRAMEWORKS },
    },
    {
      name: 'core-does-not-reach-adapters',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(express|koa)/' },
      to: { path: '^src/(express|koa)/' },
    },
    {
      name: 'adapters-stay-apart',
      severity: 'error',
      comment: 'The Express entry must not load Koa code and vice versa.',
      from: { path: '^src/express/' },
      to: { path: '^src/koa/' },
    },
    {
      name: 'adapters-stay-apart-koa',
      severity: 'error',
      from: { path: '^src/koa/' },
      to: { path: '^src/express/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
