// Debian's Chromium driven by playwright-core (TESTING.md), for the tests of the ticket UI and sign-in.
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { Test } from 'tap';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** A headless Chromium, closed when the test ends. */
export async function launchChromium(t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  return browser;
}

/**
 * A fresh page in its own context (own cookies); any console error fails the test, except Chromium's own
 * line for a request the test makes fail on purpose (`expected`: the HTTP statuses the step provokes,
 * e.g. 401 for a wrong token) and errors on pages of `foreign` origins.
 */
export async function openPage(t: Test, browser: Browser, width = 1280, expected: number[] = [], foreign: string[] = []): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  const provoked = (text: string) => expected.some((status) => text.includes(`Failed to load resource: the server responded with a status of ${status}`));
  // Pages of `foreign` origins (an identity provider's sign-in pages) are not ours to judge.
  const ours = () => !foreign.some((origin) => page.url().startsWith(origin));
  page.on('console', (m) => {
    if (m.type() === 'error' && !provoked(m.text()) && ours()) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}
