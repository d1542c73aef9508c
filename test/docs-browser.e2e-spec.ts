import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startApp, type RunningApp } from './support/app.js';
import { CHROMIUM_PATH, hasChromium, launchChromium, SwaggerUi, type BrowserSession } from './support/browser.js';

const KEY = 'sk-docs-browser-0123456789';
const SCREENSHOTS = fileURLToPath(new URL('../test-output/docs-browser/', import.meta.url));

if (!hasChromium) {
  console.warn(`Swagger UI browser test skipped: ${CHROMIUM_PATH} not found (install Debian's chromium package to run it).`);
}
const describeInBrowser = hasChromium ? describe : describe.skip;

describeInBrowser('Swagger UI at /docs in headless Chromium', () => {
  let running: RunningApp;
  let browser: BrowserSession | undefined;
  let ui: SwaggerUi;
  let headers: Record<string, string>;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    running = await startApp({ API_KEYS: KEY });
  });
  afterAll(() => running.close());

  // A fresh profile per test: persistAuthorization keeps the key in localStorage.
  beforeEach(async () => {
    browser = await launchChromium();
    ui = new SwaggerUi(browser.page);
    headers = await ui.open(running.url);
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });

  /** Each test ends here: whatever it clicked, the page's CSP blocked nothing Swagger UI needs. */
  const expectNoCspViolation = () => expect(browser!.cspViolations).toEqual([]);

  it('runs under its Content-Security-Policy and no other site may frame it', async () => {
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    await ui.page.locator('.topbar').waitFor();
    await ui.page.locator('section.models .json-schema-2020-12-expand-deep-button').first().click();
    await ui.page.locator('section.models .json-schema-2020-12-body').first().locator('.json-schema-2020-12-property').first().waitFor();
    expectNoCspViolation();
  });

  const chatCompletions = () => ui.operation('chat-completions', 'create_chat_completion_v1_chat_completions_post');

  it('shows the operation, its request examples and its schemas', async () => {
    const op = chatCompletions();
    await op.locator('.opblock-summary').click();
    await expect(op.locator('.opblock-summary-path').innerText()).resolves.toBe('/v1/chat/completions');
    const examples = await op.locator('.opblock-section-request-body .examples-select-element option').allInnerTexts();
    expect(examples).toEqual(['echo: one JSON reply', 'echo: streamed as server-sent events']);
    const schemas = await ui.page.locator('section.models').innerText();
    for (const name of ['ChatCompletionRequest', 'ChatCompletionResponse', 'HTTPValidationError']) expect(schemas).toContain(name);
    await ui.page.screenshot({ path: `${SCREENSHOTS}operation.png`, fullPage: true });
    expectNoCspViolation();
  });

  it('with a valid key, "Try it out" runs the non-streaming example and shows the echo reply', async () => {
    await ui.authorize(KEY);
    const op = chatCompletions();
    const reply = await ui.tryItOut(op, 'echo');
    await op.screenshot({ path: `${SCREENSHOTS}try-it-out-200.png` });
    expect(reply.status).toBe('200');
    expect(reply.body).toContain('"object": "chat.completion"');
    expect(reply.body).toContain('"content": "Hello from the docs"');
    expectNoCspViolation();
  });

  it('runs the streaming example and shows the server-sent events', async () => {
    await ui.authorize(KEY);
    const op = chatCompletions();
    const reply = await ui.tryItOut(op, 'echo_stream');
    await op.screenshot({ path: `${SCREENSHOTS}try-it-out-stream.png` });
    expect(reply.status).toBe('200');
    expect(reply.body).toContain('"delta":{"content":" docs"}');
    expect(reply.body).toContain('"usage":{"prompt_tokens":4,"completion_tokens":4,"total_tokens":8}');
    expect(reply.body.trim().endsWith('data: [DONE]')).toBe(true);
    expectNoCspViolation();
  });

  it('with a wrong key, shows 401', async () => {
    await ui.authorize('sk-not-a-key');
    const op = chatCompletions();
    const reply = await ui.tryItOut(op, 'echo');
    await op.screenshot({ path: `${SCREENSHOTS}try-it-out-401.png` });
    expect(reply.status).toBe('401');
    expect(reply.body).toContain('"code": "invalid_api_key"');
    expectNoCspViolation();
  });
});
