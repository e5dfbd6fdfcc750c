// End-to-end: the built app (dist/) in headless Chromium, driven like a user would.
// Run with `make test-e2e` (builds dist/ first).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, launch, openApp, serve, waitLoaded } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const text = (page, testid) => page.textContent(`[data-testid="${testid}"]`);

/** Every request stayed on the app's own origin. */
function assertSameOrigin(requests) {
  const origin = new URL(server.url).origin;
  const foreign = requests.filter((url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:'));
  assert.deepEqual(foreign, [], 'requests outside the app origin');
}

describe('first open', () => {
  test('loads the demo dataset and shows its rows', async () => {
    const { page, context, requests, errors } = await openApp(browser, server.url);
    await waitLoaded(page);
    assert.equal(await text(page, 'row-count'), '100,000');
    assert.equal(await text(page, 'column-count'), '18');
    assert.match(await text(page, 'source'), /demo dataset \(100,000 rows, seed 7\) · comma-separated, header row, UTF-8/);
    // The preview grid: 100 rows, the first report first.
    await page.waitForSelector('[data-testid="preview"] tbody tr');
    assert.equal(await page.locator('[data-testid="preview"] tbody tr').count(), 100);
    assert.equal(await page.locator('[data-testid="preview"] tbody tr:first-child td:nth-child(2)').textContent(), 'R00000001');
    // Schema: inferred types as an analyst expects them.
    const schema = await page.locator('[data-testid="schema"] tbody tr').allTextContents();
    assert.ok(schema.some((row) => row.startsWith('created_attimestamp')), schema.join('\n'));
    assert.ok(schema.some((row) => row.startsWith('app_versioncategory')), schema.join('\n'));
    assert.ok(schema.some((row) => row.startsWith('risk_scorefloat')), schema.join('\n'));
    assert.deepEqual(errors, []);
    assertSameOrigin(requests);
    await context.close();
  });

  test('pages through rows', async () => {
    const { page, context } = await openApp(browser, server.url);
    await waitLoaded(page);
    await page.waitForSelector('[data-testid="preview"] tbody tr');
    assert.equal(await page.isDisabled('[data-testid="page-prev"]'), true);
    await page.click('[data-testid="page-next"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="page-range"]').textContent.startsWith('rows 101–200'));
    assert.equal(await page.locator('[data-testid="preview"] tbody tr:first-child td:first-child').textContent(), '101');
    await page.click('[data-testid="page-prev"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="page-range"]').textContent.startsWith('rows 1–100'));
    await context.close();
  });

  test('every tab opens and says what it does', async () => {
    const { page, context, errors } = await openApp(browser, server.url);
    await waitLoaded(page);
    for (const slug of ['profile', 'trends', 'root-cause', 'clusters', 'models']) {
      await page.click(`[data-testid="tab-${slug}"]`);
      const panel = await page.waitForSelector(`[data-testid="planned-${slug}"]`);
      assert.match(await panel.textContent(), /not built yet/);
    }
    await page.click('[data-testid="tab-data"]');
    await page.waitForSelector('[data-testid="schema"]');
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('loading files', () => {
  test('file picker: sniffs the dialect, keeps bad rows aside with their line', async () => {
    const { page, context, errors } = await openApp(browser, server.url);
    await waitLoaded(page);
    await page.setInputFiles('[data-testid="open-file"] input', join(FIXTURES, 'semicolon_bad_row.csv'));
    await page.waitForFunction(() => document.querySelector('[data-testid="row-count"]')?.textContent === '4');
    assert.match(await text(page, 'source'), /semicolon_bad_row\.csv · semicolon-separated, header row, UTF-8/);
    const rejected = await text(page, 'rejected');
    assert.match(rejected, /Rejected rows \(1\)/);
    assert.match(rejected, /5.*3 fields, expected 4/s);
    assert.match(await page.locator('[data-testid="preview"]').textContent(), /erin; the second/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a bad file gives a clear message and keeps the data loaded before', async () => {
    const { page, context } = await openApp(browser, server.url);
    await waitLoaded(page);
    await page.setInputFiles('[data-testid="open-file"] input', join(FIXTURES, 'empty.csv'));
    const banner = await page.waitForSelector('[data-testid="error-banner"]');
    assert.match(await banner.textContent(), /The file is empty\. The data loaded before is still here\./);
    assert.equal(await text(page, 'row-count'), '100,000');
    await context.close();
  });

  test('drag and drop anywhere on the page', async () => {
    const { page, context } = await openApp(browser, server.url);
    await waitLoaded(page);
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['a,b\n1,2\n3,4\n5,6\n'], 'dropped.csv', { type: 'text/csv' }));
      document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => document.querySelector('[data-testid="row-count"]')?.textContent === '3');
    assert.match(await text(page, 'source'), /dropped\.csv/);
    await context.close();
  });

  test('load from URL, and a clear message for a missing one', async () => {
    const { page, context } = await openApp(browser, server.url);
    await waitLoaded(page);
    await page.fill('[data-testid="url-input"]', `${server.url}fixtures/semicolon_bad_row.csv`);
    await page.click('[data-testid="load-url"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="row-count"]')?.textContent === '4');
    await page.fill('[data-testid="url-input"]', `${server.url}fixtures/nope.csv`);
    await page.click('[data-testid="load-url"]');
    const banner = await page.waitForSelector('[data-testid="error-banner"]');
    assert.match(await banner.textContent(), /answered 404/);
    assert.equal(await text(page, 'row-count'), '4');
    await context.close();
  });

  test('cancel a load in progress: previous data stays', async () => {
    const { page, context } = await openApp(browser, server.url);
    await waitLoaded(page);
    await page.fill('[data-testid="url-input"]', `${server.url}slow.csv`);
    await page.click('[data-testid="load-url"]');
    await page.waitForFunction(() => /[1-9][\d,]* rows/.test(document.querySelector('[data-testid="load-progress"]')?.textContent ?? ''));
    await page.click('[data-testid="cancel-load"]');
    await page.waitForSelector('[data-testid="load-progress"]', { state: 'detached' });
    assert.equal(await text(page, 'row-count'), '100,000');
    // The worker is still responsive after the cancel.
    await page.click('[data-testid="page-next"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="page-range"]').textContent.startsWith('rows 101–200'));
    await context.close();
  });
});
