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
    expect(deltas(chunks)[2]).toEqual({
      tool_calls: [{ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } }],
    });
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
    for (const list of [
      events('stream-text.json').filter((e) => e.type !== 'message_delta'),
      events('stream-text.json').map((e) => (e.type === 'message_delta' ? { ...e, delta: { stop_reason: null } } : e)),
    ]) {
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

describe('AnthropicStreamMapper on the recorded streams (test/fixtures/anthropic)', () => {
  const recorded = (name: string): AnthropicStreamEvent[] =>
    readFileSync(new URL(`../../../test/fixtures/anthropic/${name}.sse`, import.meta.url), 'utf8')
      .split('\n\n')
      .filter(Boolean)
      .map((frame) => JSON.parse(frame.split('\n')[1].slice('data: '.length)));
  const play = (name: string, jsonTool?: string) => {
    const mapper = new AnthropicStreamMapper({ provider: 'claude', model: 'smart', includeUsage: true, jsonTool });
    return recorded(name).flatMap((e) => [...mapper.map(e)]);
  };
  const joined = (chunks: ChatCompletionChunk[], field: string) =>
    deltas(chunks)
      .map((d) => (typeof d[field] === 'string' ? d[field] : ''))
      .join('');

  it('thinking-text-tool-use: reasoning deltas under both names, the signed block once, exactly one tool call, tool_calls', () => {
    const chunks = play('thinking-text-tool-use');
    const thinking = 'The user wants the weather in Paris. I have a get_weather tool; I should call it with city Paris.';
    expect(joined(chunks, 'reasoning_content')).toBe(thinking);
    expect(joined(chunks, 'reasoning')).toBe(thinking);
    const blocks = deltas(chunks)
      .filter((d) => d.thinking_blocks)
      .map((d) => d.thinking_blocks);
    expect(blocks).toEqual([[{ type: 'thinking', thinking, signature: expect.stringMatching(/^EujASHaNQf0J.+=$/) }]]);
    expect(joined(chunks, 'content')).toBe("I'll check the current weather in Paris.");
    const toolDeltas = deltas(chunks).flatMap((d) => (d.tool_calls as Record<string, any>[]) ?? []);
    expect(toolDeltas[0]).toEqual({ index: 0, id: 'toolu_01WZiYJ1SHx3HbDFJpXsAUMM', type: 'function', function: { name: 'get_weather', arguments: '' } });
    for (const later of toolDeltas.slice(1)) expect(later).toEqual({ index: 0, function: { arguments: expect.any(String) } });
    expect(assembleToolCalls(chunks)).toEqual([
      { id: 'toolu_01WZiYJ1SHx3HbDFJpXsAUMM', name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' },
    ]);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(['tool_calls']);
    expect(schemaErrors(chunks)).toEqual([]);
  });

  it('redacted-thinking: the redacted block arrives whole, after the signed one', () => {
    const blocks = deltas(play('redacted-thinking')).flatMap((d) => (d.thinking_blocks as { type: string }[]) ?? []);
    expect(blocks.map((b) => b.type)).toEqual(['thinking', 'redacted_thinking']);
    expect(blocks[1]).toEqual({ type: 'redacted_thinking', data: expect.stringMatching(/^RW3CLtMc.+Rk$/) });
  });

  it('parallel-tool-use (padded 2026 events): two calls at indexes 0 and 1 with distinct ids, each parsing', () => {
    const calls = assembleToolCalls(play('parallel-tool-use'));
    expect(calls.map((c) => c.id)).toEqual(['toolu_01cQBkG7JW4FFBukFqc449jo', 'toolu_01naJmewcgP71SpoKPGV4iSX']);
    expect(calls.map((c) => JSON.parse(c.arguments))).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);
  });

  it('ends with the usage chunk, choices empty, reasoning_tokens and cache counts kept', () => {
    const usage = play('cache-usage').at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual({
      prompt_tokens: 5653,
      completion_tokens: 12,
      total_tokens: 5665,
      prompt_tokens_details: { cached_tokens: 4096, cache_write_tokens: 1536 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    const thinking = play('thinking-text').at(-1)!.usage!;
    expect((thinking.completion_tokens_details as { reasoning_tokens: number }).reasoning_tokens).toBeGreaterThan(0);
  });

  it.each([
    ['max-tokens', 'length'],
    ['refusal', 'content_filter'],
    ['structured-output', 'stop'],
  ])('%s ends with finish_reason %s', (name, finish) => {
    expect(
      play(name)
        .filter((c) => c.choices[0]?.finish_reason)
        .map((c) => c.choices[0].finish_reason),
    ).toEqual([finish]);
  });

  it("streams the response_format tool's input as content, drops the text before it, and stops with stop", () => {
    const list = recorded('thinking-text-tool-use').map((e) =>
      e.type === 'content_block_start' && e.content_block?.type === 'tool_use' ? { ...e, content_block: { ...e.content_block, name: 'json_response' } } : e,
    );
    const mapper = new AnthropicStreamMapper({ provider: 'claude', model: 'smart', includeUsage: false, jsonTool: 'json_response' });
    const chunks = list.flatMap((e) => [...mapper.map(e)]);
    expect(joined(chunks, 'content')).toBe('{"city": "Paris", "unit": "celsius"}');
    expect(deltas(chunks).some((d) => d.tool_calls)).toBe(false);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
  });

  it('with a response_format tool that is never called, the held text is the answer', () => {
    const chunks = play('text', 'json_response');
    expect(joined(chunks, 'content')).toBe(
      JSON.parse(readFileSync(new URL('../../../test/fixtures/anthropic/text.json', import.meta.url), 'utf8')).content[0].text,
    );
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(['stop']);
  });

  it('passes an unknown stop reason on as written', () => {
    const list = recorded('text').map((e) => (e.type === 'message_delta' ? { ...e, delta: { stop_reason: 'compaction' } } : e));
    const mapper = new AnthropicStreamMapper({ provider: 'claude', model: 'smart', includeUsage: false });
    expect(list.flatMap((e) => [...mapper.map(e)]).at(-1)!.choices[0].finish_reason).toBe('compaction');
  });
});
