// @ts-check
/**
 * Jest `globalTeardown`: fails the run when the specs leave behind anything that keeps Node running
 * (a listening server, a socket, a child process, a timer), naming it. Without this, Jest prints a
 * warning and waits for ever after the last test. The specs run in this process (`--runInBand`),
 * so their handles are this process's handles. Plain JavaScript: Jest loads this file without ts-jest.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Sockets in the middle of closing (a Redis QUIT, a server's last connection) get this long to finish. */
const GRACE_MS = 2000;

export default async function failOnOpenHandles() {
  const deadline = Date.now() + GRACE_MS;
  let left = stillOpen();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = stillOpen();
  }
  if (left.length > 0) throw new Error(`The specs left ${left.length} handle(s) open, and Node would not exit:\n  ${left.join('\n  ')}`);
}

/** What keeps the event loop alive, but Jest's own output: its stdout and stderr are referenced pipes when piped. */
function stillOpen() {
  const stdio = new Set([process.stdin, process.stdout, process.stderr]);
  const handles = /** @type {{ _getActiveHandles(): any[] }} */ (/** @type {unknown} */ (process))._getActiveHandles();
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate');
  return [
    ...handles.filter((h) => !stdio.has(h)).map(describe),
    ...timers.map((t) => `${t} (a setTimeout, setInterval or setImmediate not cleared nor unref'd)`),
  ];
}

/** @param {any} handle */
function describe(handle) {
  const kind = handle?.constructor?.name ?? typeof handle;
  if (kind === 'Socket') return `Socket ${handle.localAddress}:${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}`;
  if (kind === 'Server') return `Server listening on ${JSON.stringify(handle.address())}`;
  if (kind === 'ChildProcess') return `ChildProcess ${handle.pid}: ${handle.spawnargs.join(' ')}`;
  return kind;
}
