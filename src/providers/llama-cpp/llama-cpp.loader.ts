import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Logger } from '@nestjs/common';
import type { ChatWrapper, Llama, LlamaChat, LlamaContext, LlamaGrammar, LlamaGrammarEvaluationState, LlamaModel } from 'node-llama-cpp';
import { ggufProblem } from './gguf-check.js';
import type { LlamaCppProviderConfig } from './llama-cpp.config.js';

/**
 * How to run a local GGUF model: a provider entry's settings, documented on its config class. A caller
 * may omit any but `modelPath`: `resolveOptions` fills it in (for `gpu`, a GPU when one works).
 */
export type LlamaCppOptions = Pick<LlamaCppProviderConfig, 'modelPath'> & Partial<Omit<LlamaCppProviderConfig, 'type' | 'modelPath'>>;

export type ResolvedLlamaCppOptions = Required<LlamaCppOptions>;

/** The model, its context and one chat per sequence, as loaded at start. */
export interface LoadedLlama {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  chatWrapper: ChatWrapper;
  chats: LlamaChat[];
  /** A fresh grammar state for one generation on the sequence API (node-llama-cpp's class, loaded lazily). */
  grammarState(grammar: LlamaGrammar): LlamaGrammarEvaluationState;
  /** Disposes the chats, context and model, and the llama.cpp runtime once no other backend uses it. */
  release(): Promise<void>;
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** A llama.cpp runtime shared by the backends of one GPU setting. */
interface Runtime {
  key: string;
  llama: Llama;
  users: number;
  /** Collects llama.cpp's error log while a model loads: the only place it says why a load failed. */
  errors?: string[];
  /** Loads run one at a time, so each load's errors are its own. */
  loads: Promise<unknown>;
}

/**
 * node-llama-cpp's native log hook is process-wide, and in 3.21.1 a second `getLlama()` breaks it:
 * replacing the hook releases the old one, whose finaliser then marks "no hook", so llama.cpp's
 * log goes raw to stderr from then on. So the backends of a process share one runtime.
 */
const runtimes = new Map<string, Promise<Runtime>>();

/** Start-up failure: the message names the model path and the reason, never a stack of native frames. */
export class LlamaCppLoadError extends Error {
  constructor(modelPath: string, reason: string) {
    super(`llama-cpp: cannot load the model at ${modelPath}: ${reason}`);
    this.name = 'LlamaCppLoadError';
    // A bad path or file is the operator's to fix, not a bug: Nest's start-up handler prints `stack`, so it holds no frames.
    this.stack = `${this.name}: ${this.message}`;
  }
}

export function resolveOptions(options: LlamaCppOptions): ResolvedLlamaCppOptions {
  const positive = (v: number | undefined, fallback: number) => (v !== undefined && Number.isInteger(v) && v > 0 ? v : fallback);
  return {
    modelPath: resolve(options.modelPath),
    contextSize: positive(options.contextSize, 4096),
    threads: positive(options.threads, availableParallelism()),
    gpu: options.gpu === false ? false : 'auto',
    parallel: positive(options.parallel, 1),
    maxQueue: options.maxQueue !== undefined && Number.isInteger(options.maxQueue) && options.maxQueue >= 0 ? options.maxQueue : 16,
  };
}

async function acquireRuntime(lib: NodeLlamaCpp, options: ResolvedLlamaCppOptions, logger: Logger): Promise<Runtime> {
  const key = String(options.gpu);
  let entry = runtimes.get(key);
  if (!entry) {
    const { getLlama, LlamaLogLevel } = lib;
    let runtime: Runtime | undefined;
    entry = getLlama({
      gpu: options.gpu,
      build: 'never',
      maxThreads: options.threads,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (!text) return;
        if (level !== LlamaLogLevel.error && level !== LlamaLogLevel.fatal) return logger.warn(text);
        runtime?.errors?.push(text);
        logger.error(text);
      },
    }).then((llama): Runtime => (runtime = { key, llama, users: 0, loads: Promise.resolve() }));
    runtimes.set(key, entry);
    entry.catch(() => runtimes.delete(key));
  }
  const runtime = await entry.catch((e: unknown) => {
    throw new LlamaCppLoadError(options.modelPath, `llama.cpp could not start (${e instanceof Error ? e.message : String(e)})`);
  });
  runtime.users++;
  if (runtime.llama.maxThreads !== 0 && runtime.llama.maxThreads < options.threads) runtime.llama.maxThreads = options.threads;
  return runtime;
}

async function releaseRuntime(runtime: Runtime): Promise<void> {
  if (--runtime.users > 0) return;
  runtimes.delete(runtime.key);
  await runtime.llama.dispose();
}

/** Loads node-llama-cpp on first use (so other providers never pay for it), then the model, context and chats. */
export async function loadLlama(options: ResolvedLlamaCppOptions, logger: Logger): Promise<LoadedLlama> {
  const problem = await ggufProblem(options.modelPath);
  if (problem) throw new LlamaCppLoadError(options.modelPath, problem);
  const lib = await import('node-llama-cpp');
  const runtime = await acquireRuntime(lib, options, logger);
  const load = runtime.loads.then(() => loadModel(lib, runtime, options));
  runtime.loads = load.catch(() => undefined);
  return load.catch(async (e: unknown) => {
    await releaseRuntime(runtime);
    throw e;
  });
}

async function loadModel(lib: NodeLlamaCpp, runtime: Runtime, options: ResolvedLlamaCppOptions): Promise<LoadedLlama> {
  const { llama } = runtime;
  const { modelPath, parallel, threads } = options;
  const errors: string[] = (runtime.errors = []);
  const reason = async (what: string, e: unknown): Promise<never> => {
    await new Promise((resolve) => setTimeout(resolve, 50)); // llama.cpp's log arrives asynchronously
    throw new LlamaCppLoadError(modelPath, `${what} (${errors[0] ?? (e instanceof Error ? e.message : String(e))})`);
  };
  try {
    const model = await llama.loadModel({ modelPath }).catch((e: unknown) => reason('llama.cpp rejected the file', e));
    const contextSize = model.trainContextSize > 0 ? Math.min(options.contextSize, model.trainContextSize) : options.contextSize;
    const context = await model
      .createContext({ contextSize, sequences: parallel, threads })
      .catch(async (e: unknown) => (await model.dispose(), reason(`no room for a ${contextSize}-token context × ${parallel}`, e)));
    const chatWrapper = lib.resolveChatWrapper(model);
    const chats = Array.from({ length: parallel }, () => new lib.LlamaChat({ contextSequence: context.getSequence(), chatWrapper }));
    const release = async () => {
      for (const chat of chats) chat.dispose();
      await context.dispose();
      await model.dispose();
      await releaseRuntime(runtime);
    };
    const grammarState = (grammar: LlamaGrammar) => new lib.LlamaGrammarEvaluationState({ model, grammar });
    return { llama, model, context, chatWrapper, chats, grammarState, release };
  } finally {
    runtime.errors = undefined;
  }
}
