/** What a Claude model takes, as far as the translation needs to know. */
export interface ClaudeCapabilities {
  /** `output_config.format` (JSON outputs); without it a schema becomes a forced tool. */
  structuredOutputs: boolean;
  /** `none`: no extended thinking; `manual`: `{type: 'enabled', budget_tokens}`; `adaptive`: `{type: 'adaptive'}` + `output_config.effort`. */
  thinking: 'none' | 'manual' | 'adaptive';
  /** `output_config.effort: 'xhigh'` is accepted (otherwise it is sent as `max`). */
  xhighEffort: boolean;
  /** Thinks unless told `{type: 'disabled'}` (Sonnet 5). */
  thinksByDefault: boolean;
}

const FAMILY = '(haiku|sonnet|opus|fable|mythos)';
/** `claude-3-5-sonnet-20241022`, `claude-3-haiku-…`: the version before the family. */
const OLD_NAME = new RegExp(`claude-(\\d+)(?:-(\\d))?-${FAMILY}`);
/** `claude-sonnet-4-5-20250929`, `claude-opus-4-1`, `claude-sonnet-5`: the family, then major and minor (an 8-digit date is no minor). */
const NEW_NAME = new RegExp(`claude-${FAMILY}-(\\d+)(?:-(\\d{1,2})(?!\\d))?`);

/** Unknown names (newer models, or deployment names) are taken for the newest generation, as the AI SDK does. */
const NEWEST: ClaudeCapabilities = { structuredOutputs: true, thinking: 'adaptive', xhighEffort: true, thinksByDefault: false };

/**
 * Capabilities by model id (any prefix such as `anthropic.` or `us.anthropic.` and suffix are
 * allowed). Sources: test/fixtures/anthropic/NOTES.md §1 and §2 (Anthropic's structured-outputs and
 * extended-thinking pages, the TypeScript SDK, the AI SDK's capability table).
 */
export function claudeCapabilities(model: string): ClaudeCapabilities {
  const id = model.toLowerCase();
  const old = OLD_NAME.exec(id);
  if (old) {
    const version = Number(old[1]) + Number(old[2] ?? 0) / 10;
    return { structuredOutputs: false, thinking: version >= 3.7 ? 'manual' : 'none', xhighEffort: false, thinksByDefault: false };
  }
  const named = NEW_NAME.exec(id);
  if (!named) return NEWEST;
  const family = named[1];
  const version = Number(named[2]) + Number(named[3] ?? 0) / 10;
  if (version < 4.1) return { structuredOutputs: false, thinking: 'manual', xhighEffort: false, thinksByDefault: false };
  if (version < 4.6) return { structuredOutputs: true, thinking: 'manual', xhighEffort: false, thinksByDefault: false };
  if (version < 4.7) return { structuredOutputs: true, thinking: 'adaptive', xhighEffort: false, thinksByDefault: false };
  return { ...NEWEST, thinksByDefault: family === 'sonnet' && version >= 5 };
}
