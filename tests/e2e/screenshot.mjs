// Renders the app with the demo data in headless Chromium and saves the README screenshot.
// `make screenshot`.

import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launch, openApp, serve, waitLoaded } from './harness.mjs';

const out = fileURLToPath(new URL('./screenshots/', import.meta.url));
await mkdir(out, { recursive: true });
const server = await serve();
const browser = await launch();
try {
  for (const scheme of ['light', 'dark']) {
    const { page, context } = await openApp(browser, server.url, { colorScheme: scheme, viewport: { width: 1360, height: 860 } });
    await waitLoaded(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="preview"] tbody tr:not(.spacer)').length >= 18);
    await page.screenshot({ path: `${out}data-tab-${scheme}.png` });
    await page.click('[data-testid="tab-profile"]');
    await page.waitForSelector('[data-testid="profile-cards"][data-complete]');
    await page.evaluate(() => document.querySelector('[data-testid="card-account_age_days"]').scrollIntoView());
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${out}profile-tab-${scheme}.png` });
    await page.click('[data-testid="tab-trends"]');
    await page.waitForSelector('[data-testid="incident-table"]');
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${out}trends-tab-${scheme}.png`, fullPage: true });
    // Root cause opened directly: the incidents Trends found; explain the scam wave.
    await page.click('[data-testid="tab-root-cause"]');
    await page.waitForSelector('[data-testid="rca-incident"]');
    await page.click('[data-testid="rca-incident"]:has-text("2026-09-24") [data-testid="rca-incident-explain"]');
    await page.waitForSelector('[data-testid="rca-chart"]');
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${out}root-cause-tab-${scheme}.png`, fullPage: true });
    await page.click('[data-testid="tab-clusters"]');
    await page.waitForSelector('[data-testid="cluster-profiles"]', { timeout: 120000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${out}clusters-tab-${scheme}.png`, fullPage: true });
    await page.click('[data-testid="tab-networks"]');
    await page.waitForSelector('[data-testid="ring-graph"]', { timeout: 60000 });
    // Copy-paste campaigns and emerging terms found, not their progress bars.
    await page.waitForSelector('[data-testid="copies-summary"]', { timeout: 120000 });
    await page.waitForSelector('[data-testid="terms-summary"]', { timeout: 120000 });
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${out}networks-tab-${scheme}.png`, fullPage: true });
    await page.click('[data-testid="tab-models"]');
    await page.fill('[data-testid="rule-text"] >> nth=0', 'prior_strikes >= 2 and account_age_days < 30');
    await page.click('[data-testid="rule-add"]');
    await page.fill('[data-testid="rule-text"] >> nth=1', 'reason = scam and country = BR');
    await page.click('[data-testid="rules-evaluate"]');
    await page.waitForSelector('[data-testid="rule-daily"]');
    await page.waitForSelector('[data-testid="roc-chart"]');
    await page.click('[data-testid="tree-fit"]');
    await page.waitForSelector('[data-testid="tree-summary"]');
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${out}models-tab-${scheme}.png`, fullPage: true });
    await context.close();
  }
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await server.close();
}
