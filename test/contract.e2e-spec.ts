import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { startApp, type RunningApp } from './support/app.js';

const seed = yaml.load(readFileSync(new URL('./fixtures/chat-completions.openapi.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
const committed = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));

/** Every element of `expected` must stand in `actual` (extra keys in `actual` are allowed; `required` lists must match exactly). */
function missingElements(expected: unknown, actual: unknown, path = '$'): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array`];
    if (path.endsWith('.required')) {
      return JSON.stringify([...expected].sort()) === JSON.stringify([...actual].sort())
        ? []
        : [`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`];
    }
    if (expected.length !== actual.length) return [`${path}: length ${actual.length} != ${expected.length}`];
    return expected.flatMap((e, i) => missingElements(e, actual[i], `${path}[${i}]`));
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return [`${path}: expected an object`];
    return Object.entries(expected).flatMap(([k, v]) =>
      k in actual ? missingElements(v, (actual as Record<string, unknown>)[k], `${path}.${k}`) : [`${path}.${k}: missing`],
    );
  }
  return expected === actual ? [] : [`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`];
}

describe('the generated OpenAPI spec', () => {
  let running: RunningApp;
  let served: Record<string, any>;

  beforeAll(async () => {
    running = await startApp({ API_KEYS: 'k' });
    served = (await (await fetch(`${running.url}/openapi.json`)).json()) as Record<string, any>;
  });
  afterAll(() => running.close());

  it('contains every element of the seed spec', () => {
    expect(missingElements(seed, served)).toEqual([]);
  });

  it('is OpenAPI 3.1.0 and requires nothing beyond model and messages', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(served.components.schemas.ChatCompletionRequest.required).toEqual(['model', 'messages']);
  });

  it('the check itself catches a missing or changed element', () => {
    const broken = structuredClone(served);
    delete broken.components.schemas.ChatMessage.additionalProperties;
    broken.paths['/v1/chat/completions'].post.operationId = 'other';
    expect(missingElements(seed, broken)).toEqual([
      '$.paths./v1/chat/completions.post.operationId: "other" != "create_chat_completion_v1_chat_completions_post"',
      '$.components.schemas.ChatMessage.additionalProperties: missing',
    ]);
  });

  it('matches the committed openapi.json (run `npm run openapi` after changing the API)', () => {
    expect(served).toEqual(committed);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await fetch(`${running.url}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger');
  });
});
