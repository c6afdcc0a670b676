// Cucumber profiles: `default` (all categories), `ci`, one per category, and `soak` (the @soak loads).
// Run one with `npx cucumber-js -p security`, or through `npm run uat -- --profile security`.
const reportsDir = process.env.UAT_REPORTS_DIR ?? 'reports';

// Report files every profile writes; the console formatter differs per profile.
const reportFormats = [
  ['message', `${reportsDir}/cucumber-messages.ndjson`],
  ['junit', `${reportsDir}/junit.xml`],
  // Its own output target, so a console formatter given on the command line does not replace it.
  ['allure-cucumberjs/reporter', `${reportsDir}/allure-reporter.out`],
];

const base = {
  paths: ['features/**/*.feature'],
  // the hooks and the World; the steps import the tasks and clients they use (not every support file)
  import: ['support/tsx-register.mjs', 'support/hooks.ts', 'support/world.ts', 'steps/**/*.ts'],
  format: ['progress-bar', ...reportFormats],
  formatOptions: {
    resultsDir: `${reportsDir}/allure-results`,
    // The epic (the category tag) is set from support/hooks.ts: label patterns keep only what follows '@key:'.
    // (the story is set there too, in words: support/hooks.ts storyName)
    labels: [{ name: 'severity', pattern: [/^@severity:(.*)$/] }],
    // '@issue=<n>' tags become links when UAT_ISSUE_URL_TEMPLATE (e.g. https://tracker/issues/%s) is set.
    links: process.env.UAT_ISSUE_URL_TEMPLATE
      ? { issue: { pattern: [/^@issue=(.*)$/], urlTemplate: process.env.UAT_ISSUE_URL_TEMPLATE } }
      : {},
  },
  strict: true,
  // @soak scenarios run for many minutes: only the soak profile runs them
  tags: 'not @wip and not @soak',
};

export default base;

export const ci = { ...base, format: ['summary', ...reportFormats], tags: 'not @wip and not @slow and not @soak' };

export const functional = { ...base, paths: ['features/functional/**/*.feature'] };
export const performance = { ...base, paths: ['features/performance/**/*.feature'] };
export const integration = { ...base, paths: ['features/integration/**/*.feature'] };
export const usability = { ...base, paths: ['features/usability/**/*.feature'] };
export const security = { ...base, paths: ['features/security/**/*.feature'] };
// the long steady loads (scenarios/soak.yaml): `npm run uat -- --profile soak`
export const soak = { ...base, paths: ['features/performance/**/*.feature'], tags: '@soak and not @wip' };
