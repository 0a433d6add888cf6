// The Vercel AI SDK (`ai`) with @ai-sdk/openai (chat and responses) and
// @ai-sdk/anthropic, against junction.
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import {
  APICallError,
  NoSuchModelError,
  Output,
  embedMany,
  generateText,
  jsonSchema,
  stepCountIs,
  streamText,
  tool,
} from "ai";
import { KEY, runCells, spec, typedError, url, weather } from "./common.mjs";

const openai = createOpenAI({ baseURL: `${url}/v1`, apiKey: KEY });
const anthropic = createAnthropic({ baseURL: `${url}/v1`, apiKey: KEY });

function scenarios(languageModel) {
  return {
    chat: async (model) => {
      const r = await generateText({ model: languageModel(model), prompt: spec.echo_prompt, maxRetries: 0 });
      return { text: r.text, stopped: r.finishReason === "stop", tokens: r.usage.totalTokens };
    },
    stream: async (model) => {
      const r = streamText({ model: languageModel(model), prompt: spec.echo_prompt, maxRetries: 0 });
      const pieces = [];
      for await (const piece of r.textStream) if (piece) pieces.push(piece);
      return { pieces, stopped: (await r.finishReason) === "stop", tokens: (await r.usage).totalTokens };
    },
    tools: async (model) => {
      const called = [];
      const getWeather = tool({
        description: "The weather in a city",
        inputSchema: jsonSchema(spec.weather_parameters),
        execute: async ({ city }) => {
          called.push(city);
          return weather(city);
        },
      });
      const r = await generateText({
        model: languageModel(model),
        prompt: spec.weather_prompt,
        tools: { get_weather: getWeather },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      return { called, text: r.text, steps: r.steps.length };
    },
    structured: async (model) => {
      const r = await generateText({
        model: languageModel(model),
        prompt: spec.structured_prompt,
        output: Output.object({ schema: jsonSchema(spec.city_schema) }),
        maxRetries: 0,
      });
      return { object: r.output };
    },
    "unknown model": () =>
      typedError(
        () => generateText({ model: languageModel(spec.unknown_model), prompt: "hi", maxRetries: 0 }),
        (err) => APICallError.isInstance(err),
        (err) => err.statusCode,
      ),
  };
}

await runCells({
  "ai-openai-chat": {
    ...scenarios((m) => openai.chat(m)),
    embeddings: async () => {
      const r = await embedMany({ model: openai.embedding(spec.embedding_model), values: spec.embed_inputs });
      return { dims: r.embeddings.map((e) => e.length) };
    },
  },
  "ai-openai-responses": scenarios((m) => openai.responses(m)),
  "ai-anthropic": {
    ...scenarios((m) => anthropic(m)),
    embeddings: async () => {
      try {
        anthropic.embeddingModel(spec.embedding_model);
        return { offered: true };
      } catch (err) {
        return { offered: !NoSuchModelError.isInstance(err) };
      }
    },
  },
});
