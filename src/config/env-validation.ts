import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/**
 * Validates environment variables against a class-validator schema, once at start.
 * The error names each bad variable and what it should be, never the value (it may be a secret).
 */
export function validateEnv<T extends object>(schema: new () => T, env: NodeJS.ProcessEnv): T {
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') plain[k] = v;
  const instance = plainToInstance(schema, plain, { enableImplicitConversion: false });
  const errors = validateSync(instance, { forbidUnknownValues: false, validationError: { target: false, value: false } });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return instance;
}
