// OpenRouter's own SDK (@openrouter/sdk, serverURL = junction's /api/v1), which
// validates every answer against OpenRouter's schemas, against junction.
import { OpenRouter } from "@openrouter/sdk";
import * as errors from "@openrouter/sdk/models/errors";
import { KEY, runCells, spec, typedError, url, weather } from "./common.mjs";

const client = new OpenRouter({ apiKey: KEY, serverURL: `${url}/api/v1` });
const user = (content) => [{ role: "user", content }];
const tool = {
  type: "function",
  function: { name: "get_weather", description: "The weather in a city", parameters: spec.weather_parameters },
};
const send = (chatRequest) => client.chat.send({ chatRequest });

await runCells({
  "openrouter-js": {
    chat: async (model) => {
      const r = await send({ model, messages: user(spec.echo_prompt) });
      return { text: r.choices[0].message.content, stopped: r.choices[0].finishReason === "stop", tokens: r.usage.totalTokens };
    },
    stream: async (model) => {
      const stream = await send({ model, messages: user(spec.echo_prompt), stream: true });
      const pieces = [];
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta?.content;
        if (piece) pieces.push(piece);
      }
      return { pieces };
    },
    tools: async (model) => {
      const messages = user(spec.weather_prompt);
      const first = await send({ model, messages, tools: [tool] });
      const message = first.choices[0].message;
      const called = [];
      messages.push({ role: "assistant", content: message.content ?? null, toolCalls: message.toolCalls });
      for (const call of message.toolCalls ?? []) {
        const { city } = JSON.parse(call.function.arguments);
        called.push(city);
        messages.push({ role: "tool", toolCallId: call.id, content: weather(city) });
      }
      const final = await send({ model, messages, tools: [tool] });
      return { called, text: final.choices[0].message.content };
    },
    structured: async (model) => {
      const r = await send({
        model,
        messages: user(spec.structured_prompt),
        responseFormat: { type: "json_schema", jsonSchema: { name: "city", schema: spec.city_schema, strict: true } },
      });
      return { object: JSON.parse(r.choices[0].message.content) };
    },
    embeddings: async () => {
      const r = await client.embeddings.generate({
        requestBody: { model: spec.embedding_model, input: spec.embed_inputs },
      });
      return { dims: r.data.map((d) => d.embedding.length) };
    },
    "unknown model": () =>
      typedError(
        () => send({ model: spec.unknown_model, messages: user("hi") }),
        (err) => err instanceof errors.NotFoundResponseError,
        (err) => err.statusCode,
      ),
  },
});
