import { UnknownModelError } from '../common/errors/api-error.js';

/** A trained checkpoint, as `wandb-artifact:///<entity>/<project>/<name>:<version>` names it. */
export interface Checkpoint {
  entity: string;
  project: string;
  name: string;
  version: string;
  /** `entity/project/name:version`: the adapter's name upstream, and what follows the route's prefix. */
  id: string;
}

const PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const CHECKPOINT_FORM = '<entity>/<project>/<name>[:<version>], e.g. acme/agents/support-bot:step25 (no version means latest)';

/** Whether a model name has a checkpoint's form (`entity/project/name[:version]`): on a provider that loads adapters, it names one. */
export function isCheckpointName(name: string): boolean {
  const [path, version = 'latest', ...extra] = name.split(':');
  const parts = path.split('/');
  return extra.length === 0 && parts.length === 3 && parts.every((p) => PART.test(p)) && PART.test(version);
}

/** Parses what follows the route's prefix; a malformed name is a 404 that says what form is expected. */
export function parseCheckpoint(rest: string, requested: string): Checkpoint {
  const [path, version = 'latest', ...extra] = rest.split(':');
  const parts = path.split('/');
  if (extra.length > 0 || parts.length !== 3 || !parts.every((p) => PART.test(p)) || !PART.test(version)) {
    throw new UnknownModelError(requested, `A checkpoint is named ${CHECKPOINT_FORM}.`);
  }
  const [entity, project, name] = parts;
  return { entity, project, name, version, id: `${entity}/${project}/${name}:${version}` };
}

/** The `lora_path` vLLM is told to load: the configured template with the checkpoint's parts filled in. */
export function adapterPath(template: string, c: Checkpoint): string {
  return template.replace(/\{(entity|project|name|version)\}/g, (_m, k: keyof Checkpoint) => c[k]);
}
