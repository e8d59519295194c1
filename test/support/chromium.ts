/**
 * Debian's Chromium for the browser tests (test/dashboard/browser.test.ts, test/setup/browser.test.ts),
 * driven by playwright-core: where it is, the flags this machine's closed network needs, a fresh profile per
 * launch, and the page errors (script errors, CSP refusals) a test asserts there are none of.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium; CHROMIUM_PATH overrides it (e.g. to check the failure when it is missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Where screenshots go (gitignored). */
export const ARTIFACTS = resolve('test-artifacts');

/** Null when Chromium is there, else the message every test of `what` fails with (never a skip). */
export const chromiumMissing = (what: string): string | null =>
  existsSync(CHROMIUM) ? null : `Chromium is missing at ${CHROMIUM}: ${what} needs Debian's chromium package — apt-get install -y chromium (CI installs it).`;

export interface LaunchedChromium {
  context: BrowserContext;
  page: Page;
  /** Script errors and CSP refusals seen on the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile and one page, collecting its page errors. */
export async function launchChromium(): Promise<LaunchedChromium> {
  await mkdir(ARTIFACTS, { recursive: true });
  const userDataDir = await mkdtemp(join(tmpdir(), 'scim-sso-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) pageErrors.push(message.text());
  });
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
