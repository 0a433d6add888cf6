// Google's @google/genai SDK (JS) against junction's Gemini door.
import { ApiError, GoogleGenAI } from "@google/genai";
import { KEY, runCells, spec, typedError, url, weather } from "./common.mjs";

const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url } });
const declaration = {
  name: "get_weather",
  description: "The weather in a city",
  parametersJsonSchema: spec.weather_parameters,
};

await runCells({
  "genai-js": {
    chat: async (model) => {
      const r = await ai.models.generateContent({ model, contents: spec.echo_prompt });
      return { text: r.text, stopped: r.candidates[0].finishReason === "STOP", tokens: r.usageMetadata.totalTokenCount };
    },
    stream: async (model) => {
      const stream = await ai.models.generateContentStream({ model, contents: spec.echo_prompt });
      const pieces = [];
      for await (const chunk of stream) if (chunk.text) pieces.push(chunk.text);
      return { pieces };
    },
    tools: async (model) => {
      const config = { tools: [{ functionDeclarations: [declaration] }] };
      const contents = [{ role: "user", parts: [{ text: spec.weather_prompt }] }];
      const first = await ai.models.generateContent({ model, contents, config });
      const called = [];
      const parts = [];
      for (const call of first.functionCalls ?? []) {
        called.push(call.args.city);
        parts.push({ functionResponse: { id: call.id, name: call.name, response: { result: weather(call.args.city) } } });
      }
      contents.push(first.candidates[0].content, { role: "user", parts });
      const final = await ai.models.generateContent({ model, contents, config });
      return { called, text: final.text };
    },
    structured: async (model) => {
      const r = await ai.models.generateContent({
        model,
        contents: spec.structured_prompt,
        config: { responseMimeType: "application/json", responseJsonSchema: spec.city_schema },
      });
      return { object: JSON.parse(r.text) };
    },
    embeddings: async () => {
      const r = await ai.models.embedContent({ model: spec.embedding_model, contents: spec.embed_inputs });
      return { dims: r.embeddings.map((e) => e.values.length) };
    },
    "unknown model": () =>
      typedError(
        () => ai.models.generateContent({ model: spec.unknown_model, contents: "hi" }),
        (err) => err instanceof ApiError,
        (err) => err.status,
      ),
  },
});
