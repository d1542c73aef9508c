// A fast OpenAI-compatible upstream for the benchmark, plain node:http, no artificial delay.
//   POST {prefix}/v1/chat/completions  a fixed chat.completion, or with "stream": true 8 chunks then [DONE]
//   GET  {prefix}/v1/models            a model list
//   GET  /stats                        counters (requests, connections opened, open idle streams)
// Prefixes select a behaviour, so one process serves every upstream the service is configured with:
//   /v1/…       immediate replies (the floor)
//   /gap/v1/…   streams whose chunks are sent GAP_MS apart, each carrying its send time (bench_sent_at)
//   /idle/v1/…  streams that send their headers and then stay silent until the client goes away
//   /split/v1/… streams written as servers like vLLM do: one write per frame, then the end of the
//               response in a later write (so `data: [DONE]` arrives before the response's end)
// Listens on 127.0.0.1:<PORT or a free port> and prints {"port":N} on stdout once ready.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const GAP_MS = Number(process.env.GAP_MS ?? 20);
const CHUNKS = 8;
const WORDS = ['Hello', ' from', ' the', ' mock', ' upstream', ',', ' friend', '.'];
const now = () => performance.timeOrigin + performance.now();

const completionBody = JSON.stringify({
  id: 'chatcmpl-mock',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'mock-model',
  choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join('') }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 },
});

function chunk(i, extra) {
  const last = i === CHUNKS - 1;
  return JSON.stringify({
    id: 'chatcmpl-mock',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'mock-model',
    choices: [
      { index: 0, delta: i === 0 ? { role: 'assistant', content: WORDS[i] } : { content: WORDS[i] }, finish_reason: last ? 'stop' : null, logprobs: null },
    ],
    ...extra,
  });
}
// Pre-rendered: the floor should cost as little as possible.
const streamBody = Array.from({ length: CHUNKS }, (_, i) => `data: ${chunk(i)}\n\n`).join('') + 'data: [DONE]\n\n';
const modelsBody = JSON.stringify({ object: 'list', data: [{ id: 'mock-model', object: 'model', created: 1_700_000_000, owned_by: 'mock' }] });

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const stats = { requests: 0, connections: 0, idleOpen: 0, idleOpened: 0, idleClosed: 0 };

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function wantsStream(text) {
  // A cheap check keeps the floor low; the bench bodies are compact JSON written by JSON.stringify.
  return text.includes('"stream":true');
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function gapStream(res) {
  res.writeHead(200, SSE_HEADERS);
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    if (i < CHUNKS) {
      res.write(`data: ${chunk(i, { bench_sent_at: now() })}\n\n`);
      i++;
      return;
    }
    clearInterval(timer);
    res.end('data: [DONE]\n\n');
  }, GAP_MS);
  res.on('close', () => clearInterval(timer));
}

function splitStream(res) {
  res.writeHead(200, SSE_HEADERS);
  for (let i = 0; i < CHUNKS; i++) res.write(`data: ${chunk(i)}\n\n`);
  res.write('data: [DONE]\n\n');
  setTimeout(() => res.end(), 1);
}

function idleStream(res) {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  stats.idleOpen++;
  stats.idleOpened++;
  res.on('close', () => {
    stats.idleOpen--;
    stats.idleClosed++;
  });
}

const server = createServer(async (req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/stats') return sendJson(res, 200, JSON.stringify(stats));
  const m = /^(\/gap|\/idle|\/split)?\/v1\/(chat\/completions|models)\/?$/.exec(url);
  if (!m) return sendJson(res, 404, '{"error":{"message":"not found"}}');
  const [, prefix, route] = m;
  if (route === 'models') return req.method === 'GET' ? sendJson(res, 200, modelsBody) : sendJson(res, 405, '{}');
  if (req.method !== 'POST') return sendJson(res, 405, '{}');
  const text = await readBody(req);
  stats.requests++;
  const stream = wantsStream(text);
  if (prefix === '/idle') return stream ? idleStream(res) : undefined;
  if (prefix === '/gap' && stream) return gapStream(res);
  if (prefix === '/split' && stream) return splitStream(res);
  if (!stream) return sendJson(res, 200, completionBody);
  res.writeHead(200, SSE_HEADERS);
  res.end(streamBody);
});
// Connections opened so far: a proxy that reuses its keep-alive pool opens few.
server.on('connection', () => stats.connections++);
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.maxRequestsPerSocket = 0;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
