import { connect } from 'node:net';

/**
 * Where the Redis tests find Redis: REDIS_URL when set, else Redis at its default address when it answers
 * there (so `npm test` on a machine with a local Redis runs them too); undefined skips them.
 */
export async function testRedisUrl(): Promise<string | undefined> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect(6379, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  return reachable ? 'redis://127.0.0.1:6379' : undefined;
}
