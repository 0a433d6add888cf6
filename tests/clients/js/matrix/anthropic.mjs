// The official Anthropic SDK (JS) against junction's Anthropic door.
import Anthropic from "@anthropic-ai/sdk";
import { jsonSchemaOutputFormat } from "@anthropic-ai/sdk/helpers/json-schema";
import { KEY, runCells, spec, typedError, url, weather } from "./common.mjs";

const client = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
const user = (content) => [{ role: "user", content }];
const tool = { name: "get_weather", description: "The weather in a city", input_schema: spec.weather_parameters };
const text = (message) => message.content.filter((b) => b.type === "text").map((b) => b.text).join("");

await runCells({
  "anthropic-js": {
    chat: async (model) => {
      const r = await client.messages.create({ model, max_tokens: 256, messages: user(spec.echo_prompt) });
      return { text: text(r), stopped: r.stop_reason === "end_turn", tokens: r.usage.output_tokens };
    },
    stream: async (model) => {
      const stream = client.messages.stream({ model, max_tokens: 256, messages: user(spec.echo_prompt) });
      const pieces = [];
      stream.on("text", (piece) => piece && pieces.push(piece));
      const final = await stream.finalMessage();
      return { pieces, stopped: final.stop_reason === "end_turn" && text(final) === spec.echo, tokens: final.usage.output_tokens };
    },
    tools: async (model) => {
      const messages = user(spec.weather_prompt);
      const first = await client.messages.create({ model, max_tokens: 256, messages, tools: [tool] });
      const called = [];
      const results = [];
      for (const block of first.content.filter((b) => b.type === "tool_use")) {
        called.push(block.input.city);
        results.push({ type: "tool_result", tool_use_id: block.id, content: weather(block.input.city) });
      }
      messages.push({ role: "assistant", content: first.content }, { role: "user", content: results });
      const final = await client.messages.create({ model, max_tokens: 256, messages, tools: [tool] });
      return { called, text: text(final) };
    },
    structured: async (model) => {
      const r = await client.messages.parse({
        model,
        max_tokens: 256,
        messages: user(spec.structured_prompt),
        output_config: { format: jsonSchemaOutputFormat(spec.city_schema) },
      });
      return { object: r.parsed_output };
    },
    embeddings: async () => ({ offered: "embeddings" in client || "embed" in client }),
    "unknown model": () =>
      typedError(
        () => client.messages.create({ model: spec.unknown_model, max_tokens: 16, messages: user("hi") }),
        (err) => err instanceof Anthropic.NotFoundError,
        (err) => err.status,
      ),
  },
});
