import { readdir, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ApiError } from '../../common/errors/api-error.js';
import { ERROR_CODES } from '../../common/errors/error-codes.js';
import { isVersion, type Checkpoint } from '../checkpoint-name.js';
import type { VersionResolver } from './checkpoint-versions.js';

const STEP = /^step(\d+)$/;

/**
 * The newest version under `<root>/<entity>/<project>/<name>/`: what its `latest` link points to
 * when there is one (a trainer publishes a step by moving the link, once the step is written),
 * otherwise the `step<N>` with the highest N.
 */
export class DirectoryResolver implements VersionResolver {
  constructor(private readonly root: string) {}

  async resolve(c: Checkpoint): Promise<string> {
    const dir = join(this.root, c.entity, c.project, c.name);
    const linked = await readlink(join(dir, 'latest')).then(
      (to) => basename(to.replace(/\/+$/, '')),
      () => undefined,
    );
    if (isVersion(linked) && linked !== 'latest') return linked;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    let newest: { n: bigint; name: string } | undefined;
    for (const e of entries) {
      const step = STEP.exec(e.name);
      if (!step || !(e.isDirectory() || e.isSymbolicLink())) continue;
      const n = BigInt(step[1]);
      if (!newest || n > newest.n) newest = { n, name: e.name };
    }
    if (!newest)
      throw new ApiError({
        status: 404,
        message: `No version of the checkpoint '${c.base}' has been published.`,
        code: ERROR_CODES.modelNotFound,
        param: 'model',
      });
    return newest.name;
  }
}
