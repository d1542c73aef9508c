import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * What a replica may do with an adapter it wants: `held` (loaded; this replica now counts as
 * using it), `load` (this replica holds the adapter's lock and loads it), `wait` (another replica
 * loads or unloads it), `full` (every slot in use).
 */
export type AcquireOutcome = 'held' | 'load' | 'wait' | 'full';

// Shared by every script: the server's clock (replicas' clocks may differ), the keys of one target, and
// what "idle" means: not locked, and no replica's lease on it still running.
const HEAD = `
if redis.replicate_commands then redis.replicate_commands() end
local p, replica = ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local loaded, busy = p .. 'loaded', p .. 'busy'
local function holders(id) return p .. 'holders:' .. id end
local function lock(id) return p .. 'lock:' .. id end
local function idle(id)
  if redis.call('EXISTS', lock(id)) == 1 then return false end
  redis.call('ZREMRANGEBYSCORE', holders(id), '-inf', now)
  return redis.call('ZCARD', holders(id)) == 0
end
local function hold(id, leaseMs)
  redis.call('ZADD', holders(id), now + leaseMs, replica)
  redis.call('PEXPIRE', holders(id), leaseMs * 2)
end
local function take(id, lockMs)
  redis.call('SET', lock(id), replica, 'PX', lockMs)
  redis.call('ZADD', busy, now + lockMs, id)
  redis.call('PEXPIRE', busy, lockMs * 2)
end
local function unlock(id)
  redis.call('ZREM', busy, id)
  if redis.call('GET', lock(id)) == replica then redis.call('DEL', lock(id)) end
end
-- Least recently used idle adapters (never keep) taken out until at most max are loaded; locked for this replica to unload.
local function evict(max, lockMs, keep)
  local out = {}
  local n = redis.call('ZCARD', loaded)
  if n <= max then return out end
  for _, id in ipairs(redis.call('ZRANGE', loaded, 0, -1)) do
    if n <= max then break end
    if id ~= keep and idle(id) then
      redis.call('ZREM', loaded, id)
      n = n - 1
      take(id, lockMs)
      out[#out + 1] = id
    end
  end
  return out
end
`;

const SCRIPTS = {
  // ARGV: prefix, replica, id, leaseMs, max, lockMs
  gatewayLoraAcquire: `${HEAD}
local id, leaseMs, max, lockMs = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('ZSCORE', loaded, id) then
  redis.call('ZADD', loaded, now, id)
  redis.call('PEXPIRE', loaded, 86400000)
  hold(id, leaseMs)
  return 'held'
end
if redis.call('EXISTS', lock(id)) == 1 then return 'wait' end
redis.call('ZREMRANGEBYSCORE', busy, '-inf', now)
local used = redis.call('ZCARD', loaded) + redis.call('ZCARD', busy)
if used > max then return 'full' end
if used == max then
  local any = false
  for _, other in ipairs(redis.call('ZRANGE', loaded, 0, -1)) do
    if idle(other) then any = true break end
  end
  if not any then return 'full' end
end
take(id, lockMs)
return 'load'`,
  // ARGV: prefix, replica, id, leaseMs, max, lockMs
  gatewayLoraLoaded: `${HEAD}
local id, leaseMs, max, lockMs = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZADD', loaded, now, id)
redis.call('PEXPIRE', loaded, 86400000)
hold(id, leaseMs)
unlock(id)
return evict(max, lockMs, id)`,
  // ARGV: prefix, replica, id
  gatewayLoraUnlock: `${HEAD}
unlock(ARGV[3])
return 1`,
  // ARGV: prefix, replica, id, max, lockMs
  gatewayLoraRelease: `${HEAD}
redis.call('ZREM', holders(ARGV[3]), replica)
return evict(tonumber(ARGV[4]), tonumber(ARGV[5]), nil)`,
  // ARGV: prefix, replica, id
  gatewayLoraForget: `${HEAD}
if redis.call('EXISTS', lock(ARGV[3])) == 0 then redis.call('ZREM', loaded, ARGV[3]) end
return 1`,
  // ARGV: prefix, replica, leaseMs, ids...
  gatewayLoraRenew: `${HEAD}
local leaseMs = tonumber(ARGV[3])
for i = 4, #ARGV do
  hold(ARGV[i], leaseMs)
  -- Held here, so loaded (also one loaded while Redis was unreachable): counted and evictable.
  redis.call('ZADD', loaded, now, ARGV[i])
end
redis.call('PEXPIRE', loaded, 86400000)
return redis.call('ZRANGE', loaded, 0, -1)`,
  // ARGV: prefix, replica, ids...
  gatewayLoraLeave: `${HEAD}
for i = 3, #ARGV do redis.call('ZREM', holders(ARGV[i]), replica) end
return 1`,
};

type Scripts = { [K in keyof typeof SCRIPTS]: (...args: (string | number)[]) => Promise<unknown> };

/** How long a replica's claims last unless renewed; a replica that dies stops renewing them. */
export interface SharedStateTimes {
  /** A lease on an adapter in use, renewed every third of it while requests are in flight. */
  leaseMs: number;
  /** The lock one replica holds while it loads or unloads an adapter: the call's deadline and a margin. */
  lockMs: number;
}

/**
 * The adapters loaded on one vLLM target, as every replica sees them, in Redis: which are loaded
 * (with their recency), which replicas use each (leases that expire unless renewed), and a lock
 * per adapter while one replica loads or unloads it. Each step is one Lua script, so two replicas
 * never both decide to load the same adapter or unload one the other uses.
 * Keys live under `gateway:lora:<target>:`; the scripts build them from that prefix (one Redis, not a cluster).
 */
export class RedisAdapterState {
  private readonly prefix: string;
  private readonly scripts: Scripts;

  constructor(
    redis: Redis,
    /** The target every replica names the same way (its base URL). */
    target: string,
    /** `maxLoaded`: adapters on the target, loads and unloads in progress included, for every replica together. */
    readonly max: number,
    readonly times: SharedStateTimes,
    readonly replica: string = randomUUID(),
  ) {
    this.prefix = `gateway:lora:${target}:`;
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.scripts = redis as unknown as Scripts;
  }

  async acquire(id: string): Promise<AcquireOutcome> {
    return (await this.scripts.gatewayLoraAcquire(this.prefix, this.replica, id, this.times.leaseMs, this.max, this.times.lockMs)) as AcquireOutcome;
  }

  /** The load this replica locked succeeded: the adapter is loaded and held by it. Returns the adapters it must now unload (locked for it). */
  async loaded(id: string): Promise<string[]> {
    return (await this.scripts.gatewayLoraLoaded(this.prefix, this.replica, id, this.times.leaseMs, this.max, this.times.lockMs)) as string[];
  }

  /** The load or unload this replica locked is over (an unload, or a load that failed). */
  async unlock(id: string): Promise<void> {
    await this.scripts.gatewayLoraUnlock(this.prefix, this.replica, id);
  }

  /** This replica no longer uses the adapter. Returns the adapters it must now unload (locked for it). */
  async release(id: string): Promise<string[]> {
    return (await this.scripts.gatewayLoraRelease(this.prefix, this.replica, id, this.max, this.times.lockMs)) as string[];
  }

  /** The target answered that it does not have the adapter: no longer counted as loaded (unless a replica is loading or unloading it). */
  async forget(id: string): Promise<void> {
    await this.scripts.gatewayLoraForget(this.prefix, this.replica, id);
  }

  /** Renews this replica's leases on the adapters it uses (and their recency); returns every adapter loaded. */
  async renew(ids: string[]): Promise<string[]> {
    return (await this.scripts.gatewayLoraRenew(this.prefix, this.replica, this.times.leaseMs, ...ids)) as string[];
  }

  /** Gives up this replica's leases (at shutdown). */
  async leave(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.scripts.gatewayLoraLeave(this.prefix, this.replica, ...ids);
  }
}
