// Cucumber profiles: `default` (all categories), `ci`, and one per category.
// Run one with `npx cucumber-js -p security`, or through `npm run uat -- --profile security`.
const reportsDir = process.env.UAT_REPORTS_DIR ?? 'reports';

const base = {
  paths: ['features/**/*.feature'],
  import: ['support/tsx-register.mjs', 'support/**/*.ts', 'steps/**/*.ts'],
  format: [
    'progress-bar',
    ['message', `${reportsDir}/cucumber-messages.ndjson`],
    ['junit', `${reportsDir}/junit.xml`],
    'allure-cucumberjs/reporter',
  ],
  formatOptions: {
    resultsDir: `${reportsDir}/allure-results`,
    labels: [
      { name: 'epic', pattern: [/^@(functional|performance|integration|usability|security)$/] },
      { name: 'story', pattern: [/^@story:(.*)$/] },
      { name: 'severity', pattern: [/^@severity:(.*)$/] },
    ],
    links: {
      issue: { pattern: [/^@issue:(.*)$/], urlTemplate: 'https://github.com/financial-mlops/financial-mlops-uat/issues/%s' },
    },
  },
  strict: true,
  tags: 'not @wip',
};

export default base;

export const ci = { ...base, format: ['summary', ...base.format.slice(1)], tags: 'not @wip and not @slow and not @soak' };

export const functional = { ...base, paths: ['features/functional/**/*.feature'] };
export const performance = { ...base, paths: ['features/performance/**/*.feature'] };
export const integration = { ...base, paths: ['features/integration/**/*.feature'] };
export const usability = { ...base, paths: ['features/usability/**/*.feature'] };
export const security = { ...base, paths: ['features/security/**/*.feature'] };
