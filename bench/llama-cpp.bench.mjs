// Tokens/s of node-llama-cpp called directly vs LlamaCppBackend.stream() on the same tiny GGUF,
// same threads, prompts, sampling and max_tokens. Run after `npm run build`:
//   node bench/llama-cpp.bench.mjs [--threads 1] [--rounds 9] [--max-tokens 256]
// Another variant (e.g. HTTP through the service) is one more entry in `variants`: a function
// (prompt, params) => Promise<{ tokens, ttftMs }> passed to runBench().
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

export const PROMPTS = [
  [{ role: 'user', content: 'hello the world' }],
  [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'what is in the box and who will get it' }],
  [{ role: 'user', content: 'tell me about the sea' }, { role: 'assistant', content: 'it is big' }, { role: 'user', content: 'and the sky' }],
];

/** OpenAI-style sampling shared by every variant. */
export const defaultParams = { maxTokens: 256, temperature: 0.8, topP: 0.95, topK: 40, seed: 1234 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** node-llama-cpp's LlamaChat on its own context: what an app would do without the gateway. */
export async function directVariant(modelPath, { threads, contextSize }) {
  const { getLlama, LlamaChat, resolveChatWrapper } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize, sequences: 1, threads });
  const chat = new LlamaChat({ contextSequence: context.getSequence(), chatWrapper: resolveChatWrapper(model) });
  const toHistory = (messages) => [
    ...messages.map((m) => (m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: m.role, text: m.content })),
    { type: 'model', response: [] },
  ];
  return {
    async generate(messages, p) {
      const started = performance.now();
      let tokens = 0;
      let ttftMs;
      await chat.generateResponse(toHistory(messages), {
        maxTokens: p.maxTokens,
        temperature: p.temperature,
        topP: p.topP,
        topK: p.topK,
        seed: p.seed,
        repeatPenalty: false,
        onResponseChunk: (c) => {
          ttftMs ??= performance.now() - started;
          tokens += c.tokens.length;
        },
      });
      return { tokens, ttftMs };
    },
    close: () => llama.dispose(),
  };
}

/** The gateway's backend, consumed as the service does: stream() with include_usage. */
export async function backendVariant(modelPath, { threads, contextSize }) {
  const { LlamaCppBackend } = await import(pathToFileURL(join(here, '../dist/providers/llama-cpp/llama-cpp.backend.js')).href);
  const backend = await LlamaCppBackend.load({ modelPath, threads, contextSize, gpu: false, parallel: 1 });
  const signal = new AbortController().signal;
  return {
    async generate(messages, p) {
      const started = performance.now();
      let ttftMs;
      let tokens = 0;
      const body = {
        model: 'tiny', messages, max_tokens: p.maxTokens, temperature: p.temperature, top_p: p.topP, top_k: p.topK, seed: p.seed,
        stream: true, stream_options: { include_usage: true },
      };
      for await (const chunk of backend.stream({ body, requestedModel: 'tiny', model: 'tiny' }, signal)) {
        if (ttftMs === undefined && chunk.choices[0]?.delta?.content) ttftMs = performance.now() - started;
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
      }
      return { tokens, ttftMs };
    },
    close: () => backend.close(),
  };
}

/** Warm-up, then rounds in which every variant runs every prompt once; the variants' order flips each round. */
export async function runBench(variants, { rounds = 9, warmup = 3, params = defaultParams, prompts = PROMPTS, log = console.log } = {}) {
  const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, { tps: [], ttft: [] }]));
  for (let round = -warmup; round < rounds; round++) {
    const order = Object.entries(variants);
    if (round % 2) order.reverse();
    for (const [name, variant] of order) {
      let tokens = 0;
      const ttfts = [];
      const started = performance.now();
      for (const messages of prompts) {
        const r = await variant.generate(messages, params);
        tokens += r.tokens;
        if (r.ttftMs !== undefined) ttfts.push(r.ttftMs);
      }
      const seconds = (performance.now() - started) / 1000;
      if (round < 0) continue;
      samples[name].tps.push(tokens / seconds);
      samples[name].ttft.push(median(ttfts));
    }
    if (round >= 0) log(`round ${round + 1}/${rounds}: ${Object.entries(samples).map(([n, s]) => `${n} ${s.tps.at(-1).toFixed(0)} tok/s`).join(', ')}`);
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      { medianTokensPerSecond: median(s.tps), medianTtftMs: median(s.ttft), tokensPerSecondByRound: s.tps.map((x) => Math.round(x)) },
    ]),
  );
}

async function main() {
  const { values } = parseArgs({
    options: { threads: { type: 'string', default: '1' }, rounds: { type: 'string', default: '9' }, 'max-tokens': { type: 'string', default: '256' } },
  });
  const threads = Number(values.threads);
  const params = { ...defaultParams, maxTokens: Number(values['max-tokens']) };
  const contextSize = 2048;
  const { writeTinyGguf } = await import(pathToFileURL(join(here, '../dist/providers/llama-cpp/tiny-gguf.js')).href);
  const dir = await mkdtemp(join(tmpdir(), 'llama-cpp-bench-'));
  const modelPath = join(dir, 'tiny.gguf');
  await writeTinyGguf(modelPath, { contextLength: contextSize });
  const variants = {};
  try {
    // The backend first: node-llama-cpp routes llama.cpp's log only to the first runtime of a process.
    variants.backend = await backendVariant(modelPath, { threads, contextSize });
    variants.direct = await directVariant(modelPath, { threads, contextSize });
    const results = await runBench({ direct: variants.direct, backend: variants.backend }, { rounds: Number(values.rounds), params });
    const ratio = results.backend.medianTokensPerSecond / results.direct.medianTokensPerSecond;
    console.log('\nvariant   median tok/s   median TTFT ms');
    for (const [name, r] of Object.entries(results)) {
      console.log(`${name.padEnd(9)} ${r.medianTokensPerSecond.toFixed(0).padStart(12)}   ${r.medianTtftMs.toFixed(2).padStart(14)}`);
    }
    console.log(`backend / direct: ${ratio.toFixed(3)}`);
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model,
      model: { bytes: (await stat(modelPath)).size, contextSize },
      threads,
      params,
      prompts: PROMPTS.length,
      rounds: Number(values.rounds),
      results,
      backendOverDirect: Number(ratio.toFixed(4)),
    };
    await writeFile(join(here, 'llama-cpp-results.json'), `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    for (const v of Object.values(variants)) await v.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
