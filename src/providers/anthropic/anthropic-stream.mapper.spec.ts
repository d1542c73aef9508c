import { readFileSync } from 'node:fs';
import { openAiSchemaErrors } from '../../../test/support/openai-schemas.js';
import { UpstreamError } from '../../common/errors/api-error.js';
import type { ChatCompletionChunk } from '../model-backend.js';
import { AnthropicStreamMapper, type AnthropicStreamEvent } from './anthropic-stream.mapper.js';

const events = (name: string): AnthropicStreamEvent[] =>
  (JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as { data: AnthropicStreamEvent }[]).map((e) => e.data);

function replay(list: AnthropicStreamEvent[], includeUsage = false) {
  const mapper = new AnthropicStreamMapper({ provider: 'claude', model: 'my-model', includeUsage });
  const chunks = list.flatMap((e) => [...mapper.map(e)]);
  return { mapper, chunks };
}

const deltas = (chunks: ChatCompletionChunk[]) => chunks.filter((c) => c.choices.length > 0).map((c) => c.choices[0].delta);
const schemaErrors = (chunks: ChatCompletionChunk[]) => chunks.flatMap((c) => openAiSchemaErrors('CreateChatCompletionStreamResponse', c));

/** The tool calls a client assembles from the deltas, OpenAI style: by index, arguments concatenated. */
function assembleToolCalls(chunks: ChatCompletionChunk[]) {
  const calls: { id?: string; name?: string; arguments: string }[] = [];
  for (const d of deltas(chunks)) {
    for (const t of (d.tool_calls as { index: number; id?: string; function?: { name?: string; arguments?: string } }[]) ?? []) {
      const call = (calls[t.index] ??= { arguments: '' });
      if (t.id) call.id = t.id;
      if (t.function?.name) call.name = t.function.name;
      call.arguments += t.function?.arguments ?? '';
    }
  }
  return calls;
}

describe('AnthropicStreamMapper', () => {
  it('streams text: role first, text deltas, then the finish reason, all under the message id', () => {
    const { mapper, chunks } = replay(events('stream-text.json'));
    expect(deltas(chunks)).toEqual([{ role: 'assistant', content: '' }, { content: 'Hello' }, { content: '! How can I' }, { content: ' help you today?' }, {}]);
    expect(chunks.map((c) => c.choices[0].finish_reason)).toEqual([null, null, null, null, 'stop']);
    expect(new Set(chunks.map((c) => `${c.id} ${c.created} ${c.model}`)).size).toBe(1);
    expect(chunks[0]).toMatchObject({ id: 'msg_01XFDUDYJgAACzvnptvVoYEL', object: 'chat.completion.chunk', model: 'my-model' });
    expect(mapper.done).toBe(true);
    expect(schemaErrors(chunks)).toEqual([]);
  });

  it('adds a last usage chunk with no choices only when include_usage is set', () => {
    const withUsage = replay(events('stream-text.json'), true).chunks;
    expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 25, completion_tokens: 12, total_tokens: 37 } });
    expect(withUsage.at(-1)!.id).toBe(withUsage[0].id);
    expect(schemaErrors(withUsage)).toEqual([]);
    expect(replay(events('stream-text.json')).chunks.some((c) => c.usage)).toBe(false);
  });

  it('streams tool calls indexed among tool calls, with argument deltas that assemble into the input', () => {
    const { chunks } = replay(events('stream-tool-use.json'), true);
    expect(deltas(chunks)[2]).toEqual({ tool_calls: [{ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } }] });
    const calls = assembleToolCalls(chunks);
    expect(calls.map((c) => [c.id, c.name])).toEqual([
      ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather'],
      ['toolu_01Bq6TNHvXXXHNeT1HZoPpPM', 'get_time'],
    ]);
    expect(JSON.parse(calls[0].arguments)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    // A tool called with no arguments still gets a JSON object.
    expect(calls[1].arguments).toBe('{}');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
    expect(schemaErrors(chunks)).toEqual([]);
  });

  it.each([
    ['max_tokens', 'length'],
    ['stop_sequence', 'stop'],
    ['refusal', 'content_filter'],
  ])('ends a %s stop with finish_reason %s', (stopReason, finish) => {
    const list = events('stream-text.json').map((e) => (e.type === 'message_delta' ? { ...e, delta: { stop_reason: stopReason } } : e));
    expect(replay(list).chunks.at(-1)!.choices[0].finish_reason).toBe(finish);
  });

  it('throws a retryable 502 on an error event, after the chunks that came before it', () => {
    const mapper = new AnthropicStreamMapper({ provider: 'claude', model: 'm', includeUsage: false });
    const list = events('stream-error.json');
    const before = list.slice(0, -1).flatMap((e) => [...mapper.map(e)]);
    expect(deltas(before).map((d) => d.content)).toEqual(['', 'Once upon']);
    let error: unknown;
    try {
      mapper.map(list.at(-1)!);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 502, retryable: true, message: 'Overloaded' });
  });

  it('is not done until message_stop', () => {
    const list = events('stream-text.json');
    expect(replay(list.slice(0, -1)).mapper.done).toBe(false);
  });

  it('fails a stream whose message_stop came without a stop reason, instead of calling it a natural stop', () => {
    for (const list of [events('stream-text.json').filter((e) => e.type !== 'message_delta'), events('stream-text.json').map((e) => (e.type === 'message_delta' ? { ...e, delta: { stop_reason: null } } : e))]) {
      let error: unknown;
      try {
        replay(list);
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ status: 502, code: 'upstream_invalid_reply' });
    }
  });
});
