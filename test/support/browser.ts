import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Debian's `chromium` package: the browser tests use it (no browser download) and are skipped without it. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export interface BrowserSession {
  page: Page;
  /** Every Content-Security-Policy violation the page reported (event and console), in order. */
  cspViolations: string[];
  close(): Promise<void>;
}

const CSP_MARK = 'csp-violation:';

/**
 * Headless Chromium on a fresh profile in a temp folder, removed on close. Playwright passes the
 * profile as `--user-data-dir` itself (it refuses that flag in `args`).
 */
export async function launchChromium(): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'docs-browser-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(10_000);
  // Injected over CDP, so the page's own CSP does not stop it.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => console.error('${CSP_MARK} ' + e.effectiveDirective + ' ' + (e.blockedURI || e.sample)));`,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    const text = m.text();
    if (text.startsWith(CSP_MARK) || text.includes('Content Security Policy')) cspViolations.push(text);
  });
  return {
    page,
    cspViolations,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What Swagger UI shows under "Server response". */
export interface LiveResponse {
  status: string;
  body: string;
}

/** Drives Swagger UI at /docs the way a user does: Authorize, then Try it out on one operation. */
export class SwaggerUi {
  constructor(readonly page: Page) {}

  /** Opens /docs and waits for the operations; the page's response headers. */
  async open(baseUrl: string): Promise<Record<string, string>> {
    const res = await this.page.goto(`${baseUrl}/docs`);
    await this.page.locator('.opblock').first().waitFor();
    return res?.headers() ?? {};
  }

  /** Types the key into the bearer scheme's box in the Authorize dialog. */
  async authorize(key: string): Promise<void> {
    await this.page.locator('.auth-wrapper').getByRole('button', { name: 'Authorize' }).click();
    const dialog = this.page.locator('.modal-ux');
    await dialog.getByLabel('auth-bearer-value').fill(key);
    await dialog.getByRole('button', { name: 'Apply credentials' }).click();
    await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  operation(tag: string, operationId: string): Locator {
    return this.page.locator(`#operations-${tag}-${operationId}`);
  }

  /** Expands the operation, presses "Try it out", picks a request example and executes it. */
  async tryItOut(operation: Locator, example?: string): Promise<LiveResponse> {
    if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    if (example) await operation.locator('.opblock-section-request-body .examples-select-element').selectOption(example);
    await operation.getByRole('button', { name: 'Execute' }).click();
    const live = operation.locator('.live-responses-table tbody .response');
    await live.waitFor();
    return {
      // The cell adds "Undocumented" under a status the spec does not list (401 here).
      status: (await live.locator('.response-col_status').innerText()).trim().split(/\s+/)[0],
      body: await live.locator('.response-col_description .highlight-code').first().innerText(),
    };
  }
}
