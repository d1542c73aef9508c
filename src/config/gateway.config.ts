import { registerAs } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BACKEND_TYPES, type ProviderConfig } from '../providers/backend.factory.js';
import { type GatewayConfig, ModelConfig } from './gateway-config.schema.js';

/** Which provider types can give what a trainable route promises (token ids and their logprobs); a trainable route on another is refused at start. */
const GIVES_TOKEN_IDS: Record<ProviderConfig['type'], boolean> = { openai: true, anthropic: false, echo: true, 'llama-cpp': true };

/** Whether a route is trainable: as configured, else when it serves adapters. */
export function isTrainable(model: ModelConfig): boolean {
  return model.trainable ?? model.adapter === true;
}

/** Without CONFIG_FILE: the embedded echo backend (and LOCAL_MODEL_PATH's model as `local`, when set). */
export function defaultGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const config: Record<string, unknown> = { providers: { echo: { type: 'echo' } }, models: [{ name: 'echo', provider: 'echo' }] };
  if (env.LOCAL_MODEL_PATH) {
    (config.providers as Record<string, unknown>).local = { type: 'llama-cpp', modelPath: env.LOCAL_MODEL_PATH };
    (config.models as unknown[]).push({ name: 'local', provider: 'local' });
  }
  return validateGatewayConfig(config, 'built-in configuration');
}

/** Fills `${VAR}` and `${VAR:-default}` in every string of the parsed file; an unset `${VAR}` is an error naming the place. */
export function substituteEnv(node: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (typeof node === 'string') {
    return node.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}/g, (_m, name: string, hasDefault: string | undefined, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (hasDefault !== undefined) return fallback ?? '';
      throw new ConfigError(`${path || '(root)'}: environment variable ${name} is not set (write \${${name}:-} to make it optional)`);
    });
  }
  if (Array.isArray(node)) return node.map((v, i) => substituteEnv(v, env, `${path}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substituteEnv(v, env, path ? `${path}.${k}` : k)]));
  }
  return node;
}

export class ConfigError extends Error {}

function describe(errors: ValidationError[], path: string): string[] {
  return errors.flatMap((e) => {
    const here = /^\d+$/.test(e.property) ? `${path}[${e.property}]` : `${path}.${e.property}`;
    const own = Object.entries(e.constraints ?? {}).map(([rule, m]) =>
      rule === 'whitelistValidation' ? `${here}: unknown field` : `${here}: ${m.startsWith(`${e.property} `) ? m.slice(e.property.length + 1) : m}`,
    );
    return [...own, ...describe(e.children ?? [], here)];
  });
}

function validated<T extends object>(cls: new () => T, plain: unknown, path: string, problems: string[]): T {
  const instance = plainToInstance(cls, plain, { enableImplicitConversion: true, exposeDefaultValues: true });
  problems.push(...describe(validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false }), path));
  return instance;
}

/** Validates a parsed config; every problem is reported at once, each naming its place (`models[2].provider`). */
export function validateGatewayConfig(raw: unknown, source: string): GatewayConfig {
  const problems: string[] = [];
  const root = (raw ?? {}) as { providers?: unknown; models?: unknown };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${source}: expected a mapping with 'providers' and 'models'`);
  const providers: Record<string, ProviderConfig> = {};
  if (!root.providers || typeof root.providers !== 'object' || Array.isArray(root.providers))
    problems.push('providers: expected a mapping of provider names to settings');
  else {
    for (const [name, value] of Object.entries(root.providers as Record<string, unknown>)) {
      const type = (value as { type?: unknown } | null)?.type;
      const cls = BACKEND_TYPES[type as keyof typeof BACKEND_TYPES]?.config;
      if (!cls) {
        problems.push(`providers.${name}.type: must be one of ${Object.keys(BACKEND_TYPES).join(', ')}`);
        continue;
      }
      const provider = validated(cls as new () => ProviderConfig, value, `providers.${name}`, problems);
      providers[name] = provider;
      const resolve = provider.type === 'openai' ? provider.adapters?.resolve : undefined;
      if (resolve && (resolve.directory === undefined) === (resolve.http === undefined))
        problems.push(`providers.${name}.adapters.resolve: give 'directory' or 'http' (one of them)`);
    }
  }
  const models: ModelConfig[] = [];
  if (!Array.isArray(root.models) || root.models.length === 0) problems.push('models: expected a list of at least one model');
  else {
    root.models.forEach((value, i) => {
      const place = `models[${i}]`;
      const model = validated(ModelConfig, value, place, problems);
      models.push(model);
      if (!model.provider && !model.targets) problems.push(`${place}: needs 'provider' or 'targets'`);
      if (model.provider && model.targets) problems.push(`${place}: give 'provider' or 'targets', not both`);
      if (model.provider && !(model.provider in providers)) problems.push(`${place}.provider: unknown provider '${model.provider}'`);
      model.targets?.forEach((t, j) => {
        if (!(t.provider in providers)) problems.push(`${place}.targets[${j}].provider: unknown provider '${t.provider}'`);
      });
      if (model.adapter) {
        if (!model.name.endsWith('*')) problems.push(`${place}.adapter: an adapter model's name must end with * (e.g. "wandb-artifact:///*")`);
        for (const p of model.targets?.map((t) => t.provider) ?? [model.provider]) {
          const provider = p ? providers[p] : undefined;
          if (provider && !(provider.type === 'openai' && provider.adapters)) problems.push(`${place}.adapter: provider '${p}' declares no adapters`);
        }
      }
      if (isTrainable(model)) {
        for (const p of model.targets?.map((t) => t.provider) ?? [model.provider]) {
          const provider = p ? providers[p] : undefined;
          if (provider && !GIVES_TOKEN_IDS[provider.type]) {
            problems.push(
              `${place}.trainable: the trainable route '${model.name}' is served by '${p}' (type ${provider.type}), which cannot give token ids and logprobs; set trainable: false or serve it elsewhere`,
            );
          }
        }
      }
    });
    const names = new Set(models.map((m) => m.name));
    models.forEach((m, i) => {
      m.fallbacks?.forEach((f, j) => {
        if (!names.has(f) || f.endsWith('*')) problems.push(`models[${i}].fallbacks[${j}]: '${f}' is not a configured model name`);
      });
    });
  }
  if (problems.length > 0) throw new ConfigError(`Invalid ${source}:\n  ${problems.join('\n  ')}`);
  return { providers, models };
}

/** Reads, fills in and validates CONFIG_FILE (or returns the built-in default without one). */
export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const file = env.CONFIG_FILE;
  if (!file) return defaultGatewayConfig(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`CONFIG_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (err) {
    throw new ConfigError(`CONFIG_FILE ${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return validateGatewayConfig(substituteEnv(parsed, env), `CONFIG_FILE ${file}`);
}

export const gatewayConfig = registerAs('gateway', () => loadGatewayConfig(process.env));
