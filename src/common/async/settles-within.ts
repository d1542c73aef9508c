/**
 * Whether `work` settles (resolves or rejects) within `ms`. It is not cancelled when it does not:
 * it goes on, and a later rejection is swallowed. The timer does not keep the process alive.
 */
export function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(settled, settled);
  });
}
