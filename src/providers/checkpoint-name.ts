import { UnknownModelError } from '../common/errors/api-error.js';

/** A trained checkpoint, as `wandb-artifact:///<entity>/<project>/<name>:<version>` names it. */
export interface Checkpoint {
  entity: string;
  project: string;
  name: string;
  /** `step42`, `v3`, an alias, or `latest` (also when the name gave none). */
  version: string;
  /** Whether the name pins a version: `latest` (or none) is for a resolver to make concrete. */
  pinned: boolean;
  /** `entity/project/name`, without a version. */
  base: string;
  /** `entity/project/name:version`: the adapter's name upstream, and what follows the route's prefix. */
  id: string;
}

const PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const CHECKPOINT_FORM = '<entity>/<project>/<name>[:<version>], e.g. acme/agents/support-bot:step25 (no version means latest)';
const LATEST = 'latest';

/** Whether a model name has a checkpoint's form (`entity/project/name[:version]`): on a provider that loads adapters, it names one. */
export function isCheckpointName(name: string): boolean {
  const [path, version = LATEST, ...extra] = name.split(':');
  const parts = path.split('/');
  return extra.length === 0 && parts.length === 3 && parts.every((p) => PART.test(p)) && PART.test(version);
}

/** Whether a resolver's answer can name a version (it becomes part of an adapter's name and of a path). */
export function isVersion(version: unknown): version is string {
  return typeof version === 'string' && PART.test(version);
}

/** Parses what follows the route's prefix; a malformed name is a 404 that says what form is expected. */
export function parseCheckpoint(rest: string, requested: string): Checkpoint {
  const [path, version = LATEST, ...extra] = rest.split(':');
  const parts = path.split('/');
  if (extra.length > 0 || parts.length !== 3 || !parts.every((p) => PART.test(p)) || !PART.test(version)) {
    throw new UnknownModelError(requested, `A checkpoint is named ${CHECKPOINT_FORM}.`);
  }
  const [entity, project, name] = parts;
  return withVersion({ entity, project, name, base: path, version, pinned: false, id: '' }, version);
}

/** The same checkpoint at a concrete `version` (a resolver's answer), or at `latest` when that is what it names. */
export function withVersion(c: Checkpoint, version: string): Checkpoint {
  return { ...c, version, pinned: version !== LATEST, id: `${c.base}:${version}` };
}

/** The `lora_path` vLLM is told to load: the configured template with the checkpoint's parts filled in. */
export function adapterPath(template: string, c: Checkpoint): string {
  return template.replace(/\{(entity|project|name|version)\}/g, (_m, k: 'entity' | 'project' | 'name' | 'version') => c[k]);
}
