// The official openai SDK (JS), Chat Completions and Responses, against junction.
import OpenAI from "openai";
import { KEY, runCells, spec, typedError, url, weather } from "./common.mjs";

const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
const user = (content) => [{ role: "user", content }];
const tool = {
  type: "function",
  function: { name: "get_weather", description: "The weather in a city", parameters: spec.weather_parameters },
};
const responsesTool = { type: "function", ...tool.function };
const cityFormat = { type: "json_schema", name: "city", schema: spec.city_schema, strict: true };
const notFound = (call) =>
  typedError(call, (err) => err instanceof OpenAI.NotFoundError, (err) => err.status);

await runCells({
  "openai-js": {
    chat: async (model) => {
      const r = await client.chat.completions.create({ model, messages: user(spec.echo_prompt) });
      return { text: r.choices[0].message.content, stopped: r.choices[0].finish_reason === "stop", tokens: r.usage.total_tokens };
    },
    stream: async (model) => {
      const stream = await client.chat.completions.create({
        model,
        messages: user(spec.echo_prompt),
        stream: true,
        stream_options: { include_usage: true },
      });
      const pieces = [];
      let tokens = 0;
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta?.content;
        if (piece) pieces.push(piece);
        tokens = chunk.usage?.total_tokens ?? tokens;
      }
      return { pieces, tokens };
    },
    tools: async (model) => {
      const messages = user(spec.weather_prompt);
      const first = await client.chat.completions.create({ model, messages, tools: [tool] });
      const message = first.choices[0].message;
      const called = [];
      messages.push(message);
      for (const call of message.tool_calls ?? []) {
        const { city } = JSON.parse(call.function.arguments);
        called.push(city);
        messages.push({ role: "tool", tool_call_id: call.id, content: weather(city) });
      }
      const final = await client.chat.completions.create({ model, messages, tools: [tool] });
      return { called, text: final.choices[0].message.content };
    },
    structured: async (model) => {
      const r = await client.chat.completions.create({
        model,
        messages: user(spec.structured_prompt),
        response_format: { type: "json_schema", json_schema: { name: "city", schema: spec.city_schema, strict: true } },
      });
      return { object: JSON.parse(r.choices[0].message.content) };
    },
    embeddings: async () => {
      const r = await client.embeddings.create({ model: spec.embedding_model, input: spec.embed_inputs });
      return { dims: r.data.map((d) => d.embedding.length) };
    },
    "unknown model": () =>
      notFound(() => client.chat.completions.create({ model: spec.unknown_model, messages: user("hi") })),
  },
  "openai-js-responses": {
    chat: async (model) => {
      const r = await client.responses.create({ model, input: spec.echo_prompt });
      return { text: r.output_text, stopped: r.status === "completed", tokens: r.usage.total_tokens };
    },
    stream: async (model) => {
      const stream = await client.responses.create({ model, input: spec.echo_prompt, stream: true });
      const pieces = [];
      for await (const event of stream) {
        if (event.type === "response.output_text.delta" && event.delta) pieces.push(event.delta);
      }
      return { pieces };
    },
    tools: async (model) => {
      const input = user(spec.weather_prompt);
      const first = await client.responses.create({ model, input, tools: [responsesTool], store: false });
      const called = [];
      input.push(...first.output);
      for (const item of first.output.filter((i) => i.type === "function_call")) {
        const { city } = JSON.parse(item.arguments);
        called.push(city);
        input.push({ type: "function_call_output", call_id: item.call_id, output: weather(city) });
      }
      const final = await client.responses.create({ model, input, tools: [responsesTool], store: false });
      return { called, text: final.output_text };
    },
    structured: async (model) => {
      const r = await client.responses.create({ model, input: spec.structured_prompt, text: { format: cityFormat } });
      return { object: JSON.parse(r.output_text) };
    },
    "unknown model": () => notFound(() => client.responses.create({ model: spec.unknown_model, input: "hi" })),
  },
});
