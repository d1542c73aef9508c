import { createOpenAI } from '@ai-sdk/openai';
import { AIMessageChunk } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, generateText, stepCountIs, streamObject, tool } from 'ai';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { KEY, startApp, type RunningApp } from './support/app.js';
import {
  AnthropicMock,
  message,
  messageEvents,
  sendError,
  sendEvents,
  sendMessage,
  thinkingProblem,
  type Block,
  type Script,
} from './support/anthropic-mock.js';
import { AnthropicReplay, fixture } from './support/anthropic-replay.js';
import { writeConfig } from './support/config-file.js';

// Real OpenAI clients (the openai SDK, the Vercel AI SDK, LangChain) with the service as their baseURL, in front of
// the recorded Anthropic replies and a scripted Messages API that checks signed thinking as Anthropic does.

const ANTHROPIC_KEY = 'sk-ant-clients';
const Person = z.object({ name: z.string(), born: z.number().int(), fields: z.array(z.string()) });
const ADA = { name: 'Ada Lovelace', born: 1815, fields: ['mathematics', 'computing'] };
const THINKING: Block = { type: 'thinking', thinking: 'The user wants the weather in Paris: call get_weather.', signature: 'RXVqQVNIYU5RZjBKRVd2SGhnOUdF' };
const weatherParameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

/** A tool loop as Anthropic runs it: thinking and a get_weather call, then, given the result, the answer; signed thinking checked. */
const weatherLoop: Script = (call, res) => {
  const problem = thinkingProblem(call.json, new Map([[(THINKING as { signature: string }).signature, (THINKING as { thinking: string }).thinking]]));
  if (problem) return sendError(res, 400, 'invalid_request_error', problem);
  const messages = call.json.messages as { content: { type: string; content?: unknown }[] }[];
  const result = messages.at(-1)!.content.find((b) => b.type === 'tool_result');
  const thinking = call.json.thinking?.type === 'enabled' || call.json.thinking?.type === 'adaptive';
  const usage = { input_tokens: 90, output_tokens: 60, output_tokens_details: { thinking_tokens: thinking ? 25 : 0 } };
  const msg = result
    ? message(call.json.model, [{ type: 'text', text: `It is ${JSON.stringify(result.content)} in Paris.` }], 'end_turn', usage)
    : message(
        call.json.model,
        [...(thinking ? [THINKING] : []), { type: 'tool_use', id: 'toolu_01Loop', name: 'get_weather', input: { city: 'Paris' } }],
        'tool_use',
        usage,
      );
  return call.json.stream ? sendEvents(res, messageEvents(msg)) : sendMessage(res, msg);
};

describe('real OpenAI clients through the service, in front of Anthropic', () => {
  const replay = new AnthropicReplay(ANTHROPIC_KEY);
  const scripted = new AnthropicMock(ANTHROPIC_KEY);
  let running: RunningApp;
  let baseURL: string;

  beforeAll(async () => {
    await Promise.all([replay.start(), scripted.start()]);
    const config = writeConfig(`
providers:
  recorded:
    type: anthropic
    baseURL: ${replay.baseURL}
    apiKey: ${ANTHROPIC_KEY}
    maxRetries: 0
  scripted:
    type: anthropic
    baseURL: ${scripted.baseURL}
    apiKey: ${ANTHROPIC_KEY}
    maxRetries: 0
models:
  - name: opus
    provider: recorded
    model: claude-opus-4-8
  - name: sonnet
    provider: scripted
    model: claude-sonnet-4-5
  - name: sonnet4
    provider: scripted
    model: claude-sonnet-4-20250514
`);
    running = await startApp({ API_KEYS: KEY, CONFIG_FILE: config });
    baseURL = `${running.url}/v1`;
  });
  afterAll(async () => {
    await Promise.all([replay.stop(), scripted.stop()]);
    await running.close();
  });

  describe('the openai SDK', () => {
    const client = () => new OpenAI({ apiKey: KEY, baseURL, maxRetries: 0 });

    it.each([false, true])('chat.completions.parse with a zod schema gets the parsed object (stream %s)', async (stream) => {
      replay.play('structured-output', { cuts: { seed: 5, max: 30 } });
      const params = {
        model: 'opus',
        messages: [{ role: 'user' as const, content: 'Who was Ada Lovelace?' }],
        response_format: zodResponseFormat(Person, 'person'),
      };
      const reply = stream ? await client().chat.completions.stream(params).finalChatCompletion() : await client().chat.completions.parse(params);
      expect(reply.choices[0].message.parsed).toEqual(ADA);
      const sent = replay.calls[0].json;
      expect(sent.output_config.format).toMatchObject({
        type: 'json_schema',
        schema: { type: 'object', additionalProperties: false, required: ['name', 'born', 'fields'] },
      });
      expect(sent).not.toHaveProperty('response_format');
    });

    const weatherTool = { type: 'function' as const, function: { name: 'get_weather', parameters: weatherParameters } };

    it.each([false, true])(
      'a tool loop that sends the assistant message back as received keeps thinking on: the signed block goes back first (stream %s)',
      async (stream) => {
        scripted.reset(weatherLoop);
        const messages: Record<string, unknown>[] = [{ role: 'user', content: 'Weather in Paris?' }];
        const params = { model: 'sonnet', reasoning_effort: 'low' as const, tools: [weatherTool] };
        const first = stream
          ? await client()
              .chat.completions.stream({ ...params, messages } as never)
              .finalChatCompletion()
          : await client().chat.completions.create({ ...params, messages } as never);
        const assistant = first.choices[0].message as unknown as Record<string, unknown>;
        expect(assistant.thinking_blocks).toEqual([THINKING]);
        // openai-node's stream helper keeps only the last reasoning_content fragment; the whole text is in the block.
        if (!stream) expect(assistant.reasoning_content).toBe((THINKING as { thinking: string }).thinking);
        messages.push(assistant, { role: 'tool', tool_call_id: 'toolu_01Loop', content: '21°C' });
        const second = await client().chat.completions.create({ ...params, messages } as never);
        expect(second.choices[0].message.content).toBe('It is "21°C" in Paris.');
        const [asked, answered] = scripted.calls.map((c) => c.json);
        expect(asked.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
        expect(answered.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
        expect(answered.messages[1].content[0]).toEqual(THINKING);
      },
    );

    it.each([false, true])(
      'runTools with reasoning_effort (which replays only standard fields): the loop still ends in an answer, thinking left off for the turn sent back (stream %s)',
      async (stream) => {
        scripted.reset(weatherLoop);
        const runner = client().chat.completions.runTools({
          model: 'sonnet',
          stream,
          reasoning_effort: 'low',
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
          tools: [
            {
              type: 'function',
              function: { name: 'get_weather', parameters: weatherParameters, parse: JSON.parse, function: ({ city }: { city: string }) => `21°C in ${city}` },
            },
          ],
        } as never);
        expect(await runner.finalContent()).toBe('It is "21°C in Paris" in Paris.');
        const [first, second] = scripted.calls.map((c) => c.json);
        expect(first.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
        expect(second).not.toHaveProperty('thinking');
        expect(second.messages[1].content.map((b: { type: string }) => b.type)).toEqual(['tool_use']);
      },
    );
  });

  describe('the Vercel AI SDK (@ai-sdk/openai chat models)', () => {
    const provider = () => createOpenAI({ apiKey: KEY, baseURL });

    it('generateObject and streamObject get the object', async () => {
      replay.play('structured-output');
      const { object } = await generateObject({ model: provider().chat('opus'), schema: Person, prompt: 'Who was Ada Lovelace?' });
      expect(object).toEqual(ADA);
      replay.play('structured-output', { cuts: 7 });
      const streamed = streamObject({ model: provider().chat('opus'), schema: Person, prompt: 'Who was Ada Lovelace?' });
      const partials = [];
      for await (const partial of streamed.partialObjectStream) partials.push(partial);
      expect(partials.length).toBeGreaterThan(1);
      expect(await streamed.object).toEqual(ADA);
      expect(replay.calls[0].json.output_config.format.type).toBe('json_schema');
    });

    it('generateObject and streamObject on a model without structured outputs: the forced tool answers as content', async () => {
      scripted.reset((call, res) => {
        const msg = message(call.json.model, [{ type: 'tool_use', id: 'toolu_01Json', name: call.json.tool_choice.name, input: ADA }], 'tool_use');
        return call.json.stream ? sendEvents(res, messageEvents(msg)) : sendMessage(res, msg);
      });
      const { object, finishReason } = await generateObject({ model: provider().chat('sonnet4'), schema: Person, prompt: 'Who was Ada Lovelace?' });
      expect([object, finishReason]).toEqual([ADA, 'stop']);
      const streamed = streamObject({ model: provider().chat('sonnet4'), schema: Person, prompt: 'Who was Ada Lovelace?' });
      for await (const partial of streamed.partialObjectStream) expect(partial).toBeDefined();
      expect(await streamed.object).toEqual(ADA);
      for (const call of scripted.calls) {
        expect(call.json.tools).toEqual([
          {
            name: 'json_response',
            description: expect.any(String),
            input_schema: expect.objectContaining({ type: 'object', required: ['name', 'born', 'fields'] }),
          },
        ]);
        expect(call.json.tool_choice).toEqual({ type: 'tool', name: 'json_response' });
        expect(call.json).not.toHaveProperty('output_config');
      }
    });

    it('generateText with tools and reasoning: the loop runs, reasoning tokens and cache counts are read', async () => {
      scripted.reset(weatherLoop);
      const result = await generateText({
        model: provider().chat('sonnet'),
        prompt: 'Weather in Paris?',
        tools: { get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `21°C in ${city}` }) },
        stopWhen: stepCountIs(3),
        providerOptions: { openai: { reasoningEffort: 'low', forceReasoning: true } },
      });
      expect(result.text).toBe('It is "21°C in Paris" in Paris.');
      expect(result.steps[0].usage.outputTokenDetails.reasoningTokens).toBe(25);
      const [first, second] = scripted.calls.map((c) => c.json);
      expect(first.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
      // The AI SDK sends no signed thinking back: the gateway leaves thinking off for that turn rather than fail it.
      expect(second).not.toHaveProperty('thinking');
      expect(second.messages[1].content.map((b: { type: string }) => b.type)).toEqual(['tool_use']);
    });

    it('reads cached and written prompt tokens', async () => {
      replay.play('cache-usage');
      const { usage, text } = await generateText({ model: provider().chat('opus'), prompt: 'When does the contract renew?' });
      expect(text).toBe('The contract renews on 1 March.');
      expect(usage.inputTokens).toBe(21 + 1536 + 4096);
      expect(usage.inputTokenDetails).toEqual({ noCacheTokens: 21, cacheReadTokens: 4096, cacheWriteTokens: 1536 });
    });
  });

  describe('LangChain ChatOpenAI', () => {
    const chat = (model: string) => new ChatOpenAI({ model, apiKey: KEY, configuration: { baseURL }, maxRetries: 0 });

    it('withStructuredOutput (json_schema) gets the object', async () => {
      replay.play('structured-output');
      expect(await chat('opus').withStructuredOutput(Person).invoke('Who was Ada Lovelace?')).toEqual(ADA);
      expect(replay.calls[0].json.output_config.format.type).toBe('json_schema');
    });

    it('withStructuredOutput through a forced tool (functionCalling) gets the object', async () => {
      scripted.reset((call, res) =>
        sendMessage(res, message(call.json.model, [{ type: 'tool_use', id: 'toolu_01Fn', name: call.json.tool_choice.name, input: ADA }], 'tool_use')),
      );
      expect(await chat('sonnet').withStructuredOutput(Person, { name: 'person', method: 'functionCalling' }).invoke('Who was Ada Lovelace?')).toEqual(ADA);
      expect(scripted.calls[0].json.tool_choice).toEqual({ type: 'tool', name: 'person' });
    });

    it('json_object through the response_format tool gets JSON content, streamed', async () => {
      scripted.reset((call, res) =>
        sendEvents(
          res,
          messageEvents(message(call.json.model, [{ type: 'tool_use', id: 'toolu_01Js', name: call.json.tools[0].name, input: ADA }], 'tool_use')),
        ),
      );
      let text = '';
      for await (const part of await chat('sonnet')
        .withConfig({ response_format: { type: 'json_object' } })
        .stream('Ada Lovelace as JSON'))
        text += typeof part.content === 'string' ? part.content : '';
      expect(JSON.parse(text)).toEqual(ADA);
      expect(scripted.calls[0].json.tool_choice).toEqual({ type: 'tool', name: 'json_response' });
    });

    it.each([false, true])('bound tools: two parallel calls with distinct ids and parsed args (stream %s)', async (stream) => {
      replay.play('parallel-tool-use', { cuts: { seed: 11, max: 17 } });
      const model = chat('opus').bindTools([{ type: 'function', function: { name: 'get_weather', parameters: weatherParameters } }]);
      let calls;
      if (stream) {
        let all: AIMessageChunk | undefined;
        for await (const part of await model.stream('Weather in Paris and Tokyo?')) all = all ? all.concat(part) : part;
        calls = all!.tool_calls;
      } else calls = (await model.invoke('Weather in Paris and Tokyo?')).tool_calls;
      expect(calls?.map((c) => [c.id, c.name, c.args])).toEqual([
        ['toolu_01cQBkG7JW4FFBukFqc449jo', 'get_weather', { city: 'Paris' }],
        ['toolu_01naJmewcgP71SpoKPGV4iSX', 'get_weather', { city: 'Tokyo' }],
      ]);
    });

    it('keeps the thinking text as reasoning_content', async () => {
      replay.play('thinking-text');
      const recorded = JSON.parse(fixture('thinking-text.json').toString('utf8')).content as { type: string; thinking?: string; text?: string }[];
      const reply = await chat('opus').invoke('Think, then answer.');
      expect(reply.additional_kwargs.reasoning_content).toBe(recorded[0].thinking);
      expect(reply.content).toBe(recorded[1].text);
    });
  });
});
