import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { authHeaders, KEY, post, rawPost, sseData, startApp, type RunningApp } from './support/app.js';
import { openAiSchemaErrors } from './support/openai-schemas.js';

describe('POST /v1/chat/completions (echo)', () => {
  let running: RunningApp;
  let url: string;
  const hello = { model: 'echo', messages: [{ role: 'user', content: 'Hello there world' }] };

  beforeAll(async () => {
    running = await startApp({ API_KEYS: `other-key, ${KEY}` });
    url = `${running.url}/v1/chat/completions`;
  });
  afterAll(() => running.close());

  describe('auth', () => {
    it.each([
      ['no header', { 'content-type': 'application/json' }],
      ['another scheme', { authorization: `Basic ${KEY}`, 'content-type': 'application/json' }],
      ['an unknown key', authHeaders('sk-wrong')],
      ['an empty bearer', { authorization: 'Bearer ', 'content-type': 'application/json' }],
    ])('answers 401 with WWW-Authenticate for %s', async (_name, headers) => {
      const r = await post(url, hello, headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.json).toMatchObject({ detail: expect.any(String), error: { type: 'authentication_error', code: 'invalid_api_key' } });
      expect(r.text).not.toContain('sk-wrong');
    });

    it('accepts every configured key, and a lower-case scheme', async () => {
      expect((await post(url, hello, authHeaders('other-key'))).status).toBe(200);
      expect((await post(url, hello, { authorization: `bearer ${KEY}`, 'content-type': 'application/json' })).status).toBe(200);
    });

    it('accepts credentials with surrounding white space, as FastAPI strips them', async () => {
      expect((await post(url, hello, { authorization: `Bearer  ${KEY}`, 'content-type': 'application/json' })).status).toBe(200);
      expect((await post(url, hello, { authorization: `Bearer ${KEY} x`, 'content-type': 'application/json' })).status).toBe(401);
    });

    it('invites a body with 100 Continue only once the key is accepted', async () => {
      const body = JSON.stringify(hello);
      const exchange = (authorization: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(Number(new URL(url).port), '127.0.0.1');
          let seen = '';
          socket.setEncoding('latin1');
          socket.on('data', (d: string) => {
            seen += d;
            // The body goes only when invited, as curl and HTTP clients do.
            if (seen.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && !socket.writableEnded) socket.end(body);
            if (/\r\n\r\n[\s\S]*\}$/.test(seen.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''))) {
              socket.destroy();
              resolve(seen);
            }
          });
          socket.on('error', reject);
          socket.write(
            `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
          );
        });
      const refused = await exchange('Bearer sk-wrong');
      expect(refused).toMatch(/^HTTP\/1\.1 401 /);
      const accepted = await exchange(`Bearer ${KEY}`);
      expect(accepted).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    });

    it('leaves /v1/health open', async () => {
      const res = await fetch(`${running.url}/v1/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });
  });

  describe('validation (FastAPI 422 bodies)', () => {
    it.each([
      ['missing model', { messages: [] }, [{ type: 'missing', loc: ['body', 'model'], msg: 'Field required', input: { messages: [] } }]],
      ['model not a string', { model: 7, messages: [] }, [{ type: 'string_type', loc: ['body', 'model'], msg: 'Input should be a valid string', input: 7 }]],
      ['model null', { model: null, messages: [] }, [{ type: 'string_type', loc: ['body', 'model'], msg: 'Input should be a valid string', input: null }]],
      [
        'messages not a list',
        { model: 'echo', messages: 'hi' },
        [{ type: 'list_type', loc: ['body', 'messages'], msg: 'Input should be a valid list', input: 'hi' }],
      ],
      [
        'a message not an object',
        { model: 'echo', messages: [{ role: 'user' }, 'x', [1]] },
        [
          { type: 'dict_type', loc: ['body', 'messages', 1], msg: 'Input should be a valid dictionary', input: 'x' },
          { type: 'dict_type', loc: ['body', 'messages', 2], msg: 'Input should be a valid dictionary', input: [1] },
        ],
      ],
      [
        'a body that is not an object',
        [1, 2],
        [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: [1, 2] }],
      ],
      [
        'stream not a boolean',
        { ...hello, stream: 'yes' },
        [{ type: 'bool_type', loc: ['body', 'stream'], msg: 'Input should be a valid boolean', input: 'yes' }],
      ],
    ])('%s', async (_name, body, detail) => {
      const r = await post(url, body);
      expect(r.status).toBe(422);
      expect(r.json).toEqual({
        detail,
        error: {
          message: expect.stringContaining(`${detail[0].loc.join('.')}: ${detail[0].msg}`),
          type: 'invalid_request_error',
          param: detail[0].loc.length > 1 ? expect.any(String) : null,
          code: detail[0].type,
        },
      });
    });

    it('answers invalid JSON as json_invalid at the character offset', async () => {
      const r = await post(url, '{"model": "echo", "messages": [}');
      expect(r.status).toBe(422);
      expect(r.json.detail).toEqual([{ type: 'json_invalid', loc: ['body', 31], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }]);
      expect(r.json.error).toEqual({
        message: 'body: JSON decode error at character 31: Expecting value',
        type: 'invalid_request_error',
        param: null,
        code: 'json_invalid',
      });
    });

    it('answers an empty body as a missing body', async () => {
      const r = await post(url, '');
      expect(r.json.detail).toEqual([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
      expect(r.json.error).toMatchObject({ message: 'body: Field required', code: 'missing', param: null });
    });

    it('reads a body as JSON only with a JSON content type, as FastAPI does; any other is text, and not an object', async () => {
      const noType = await rawPost(url, JSON.stringify(hello), { authorization: `Bearer ${KEY}` });
      expect(noType.status).toBe(422);
      expect(JSON.parse(noType.text).detail).toEqual([
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input: JSON.stringify(hello),
        },
      ]);
      for (const type of ['application', 'application/json, text/plain', '; charset=utf-8', 'json']) {
        const r = await post(url, JSON.stringify(hello), { authorization: `Bearer ${KEY}`, 'content-type': type });
        expect({ type, status: r.status, first: r.json.detail?.[0]?.type }).toEqual({ type, status: 422, first: 'model_attributes_type' });
      }
      for (const type of ['application/json; charset=utf-8', 'APPLICATION/JSON', ' application/vnd.api+json ']) {
        expect((await post(url, JSON.stringify(hello), { authorization: `Bearer ${KEY}`, 'content-type': type })).status).toBe(200);
      }
      const text = await post(url, JSON.stringify(hello), { authorization: `Bearer ${KEY}`, 'content-type': 'text/plain' });
      expect(text.status).toBe(422);
      expect(text.json.detail[0]).toMatchObject({ type: 'model_attributes_type', loc: ['body'] });
    });

    it('answers bytes that are not UTF-8 as FastAPI does (400), skips a UTF-8 BOM, and echoes numbers as Python reads them', async () => {
      const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
      const notUtf8 = await post(
        url,
        Buffer.concat([Buffer.from('{"model":"echo","messages":[{"role":"user","content":"a'), Buffer.from([0x80]), Buffer.from('b"}]}')]),
        headers,
      );
      expect(notUtf8.status).toBe(400);
      expect(notUtf8.json).toMatchObject({ detail: 'There was an error parsing the body', error: { type: 'invalid_request_error' } });
      const bom = await post(url, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(hello))]), headers);
      expect(bom.status).toBe(200);
      const numbers = await post(url, '{"model": 9007199254740993, "messages": [], "n": 1.0, "t": 1e16}', headers);
      expect(numbers.status).toBe(422);
      expect(numbers.text).toContain('"input":9007199254740993');
      const missing = await post(url, '{"messages": [], "2": -0.0, "n": 1.0}', headers);
      expect(missing.text).toContain('"input":{"messages":[],"2":-0.0,"n":1.0}');
      // A field echo does not read (echo honours `n`, and refuses one this large with its own 400).
      const huge = await post(url, `{"model":"echo","messages":[],"x":${'1'.repeat(4301)}}`, headers);
      expect(huge.status).toBe(400);
      expect(
        (await post(url, `{"model":"echo","messages":[],"x":${'1'.repeat(4300)}, "s": "${'2'.repeat(5000)}", "f": 1.${'3'.repeat(5000)}}`, headers)).status,
      ).toBe(200);
    });

    it('does not let __proto__ in the body bypass validation', async () => {
      const r = await post(url, '{"__proto__": {"model": "echo", "messages": []}}');
      expect(r.status).toBe(422);
      expect(r.json.detail.map((d: { loc: unknown }) => d.loc)).toEqual([
        ['body', 'model'],
        ['body', 'messages'],
      ]);
      expect(({} as Record<string, unknown>).model).toBeUndefined();
    });
  });

  describe('replies', () => {
    it("is a chat.completion valid against OpenAI's published schema", async () => {
      const r = await post(url, { ...hello, some_unknown_field: { kept: true } });
      expect(r.status).toBe(200);
      expect(openAiSchemaErrors('CreateChatCompletionResponse', r.json)).toEqual([]);
      expect(r.json).toMatchObject({
        object: 'chat.completion',
        model: 'echo',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there world', refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
      });
    });

    it('accepts the trailing-slash path', async () => {
      expect((await post(`${url}/`, hello)).status).toBe(200);
    });

    it('answers a method the path does not take with 405 and Allow, as FastAPI does; an unknown path stays 404', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await fetch(url, { method, headers: authHeaders(KEY) });
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe('POST');
        expect(await res.json()).toMatchObject({ detail: 'Method Not Allowed', error: { code: 'method_not_allowed', type: 'invalid_request_error' } });
      }
      const models = await fetch(`${running.url}/v1/models`, { method: 'POST', headers: authHeaders(KEY), body: '{}' });
      expect(models.status).toBe(405);
      expect(models.headers.get('allow')).toBe('GET, HEAD');
      const unknown = await fetch(`${running.url}/v1/nothing-here`, { method: 'POST', headers: authHeaders(KEY), body: '{}' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({
        detail: 'Not Found',
        error: { message: 'Not Found', type: 'invalid_request_error', param: null, code: 'not_found' },
      });
      // A path that cannot be decoded, or that climbs out of the docs, names no route either (fetch would normalise these).
      const { port } = new URL(running.url);
      for (const path of ['/%ZZ', '/v1/%', '/docs/../../x', '/docs/%2e%2e/%2E%2E/x']) {
        const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: Number(port), path, headers: authHeaders(KEY) }, (r) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (d: string) => (text += d));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
          });
          req.on('error', reject);
          req.end();
        });
        expect({ path, status: res.status, detail: (JSON.parse(res.text) as { detail?: unknown }).detail }).toEqual({ path, status: 404, detail: 'Not Found' });
      }
    });

    it('answers an unknown model with 404 model_not_found', async () => {
      const r = await post(url, { ...hello, model: 'gpt-nope' });
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({
        detail: expect.stringContaining('gpt-nope'),
        error: { code: 'model_not_found', param: 'model', type: 'invalid_request_error' },
      });
    });

    it('streams valid chunks: one id, role first, finish_reason, usage chunk, [DONE]', async () => {
      const r = await post(url, { ...hello, stream: true, stream_options: { include_usage: true } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const frames = sseData(r.text);
      expect(frames.at(-1)).toBe('[DONE]');
      const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
      for (const c of chunks) expect(openAiSchemaErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks[0].choices[0].delta.role).toBe('assistant');
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello there world');
      expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } });
    });

    it('streams without a usage chunk unless asked', async () => {
      const chunks = sseData((await post(url, { ...hello, stream: true })).text)
        .slice(0, -1)
        .map((f) => JSON.parse(f));
      expect(chunks.every((c) => c.usage === undefined)).toBe(true);
    });

    it("lists models in OpenAI's shape", async () => {
      const res = await fetch(`${running.url}/v1/models`, { headers: authHeaders() });
      const body = (await res.json()) as { data: { id: string }[] };
      expect(openAiSchemaErrors('ListModelsResponse', body)).toEqual([]);
      expect(body.data.map((m: { id: string }) => m.id)).toEqual(['echo']);
    });
  });
});
