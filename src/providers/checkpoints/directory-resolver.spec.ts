import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCheckpoint } from '../checkpoint-name.js';
import { DirectoryResolver } from './directory-resolver.js';

describe('DirectoryResolver', () => {
  const root = mkdtempSync(join(tmpdir(), 'resolver-'));
  const resolver = new DirectoryResolver(root);
  const dir = (name: string) => join(root, 'acme', 'agents', name);
  const make = (name: string, ...entries: string[]) => entries.forEach((e) => mkdirSync(join(dir(name), e), { recursive: true }));
  const resolve = (name: string) => resolver.resolve(parseCheckpoint(`acme/agents/${name}`, name));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('names the step with the highest number (as a number: step10 after step9), ignoring anything else', async () => {
    make('a', 'step2', 'step9', 'step10', 'v99', 'step11.tmp', 'notes');
    expect(await resolve('a')).toBe('step10');
  });

  it('follows a `latest` link (relative or absolute) before counting steps', async () => {
    make('b', 'step1', 'step2', 'step3');
    symlinkSync('step2', join(dir('b'), 'latest'));
    expect(await resolve('b')).toBe('step2');
    make('c', 'step1', 'step4');
    symlinkSync(join(dir('c'), 'step1') + '/', join(dir('c'), 'latest'));
    expect(await resolve('c')).toBe('step1');
  });

  it('counts steps when `latest` is a directory of its own', async () => {
    make('d', 'latest', 'step5');
    expect(await resolve('d')).toBe('step5');
  });

  it('is a 404 model_not_found naming the checkpoint when nothing is published', async () => {
    make('e', 'notes');
    for (const name of ['e', 'never']) {
      await expect(resolve(name)).rejects.toMatchObject({ status: 404, code: 'model_not_found', message: expect.stringContaining(`'acme/agents/${name}'`) });
    }
  });
});
