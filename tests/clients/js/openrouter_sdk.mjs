// Runs @openrouter/sdk against a live junction (serverURL = JUNCTION_URL + "/api/v1").
// Every call goes through the SDK's own response validation; the script prints one
// JSON object: {scenario: "ok" | "<error class>: <message>"}, and the values the
// Python test checks.
import { OpenRouter } from "@openrouter/sdk";
import * as errors from "@openrouter/sdk/models/errors";

const client = new OpenRouter({
  apiKey: "sk-junction-test",
  serverURL: `${process.env.JUNCTION_URL}/api/v1`,
});
const out = {};

async function scenario(name, run) {
  try {
    out[name] = await run();
  } catch (err) {
    out[name] = { failed: `${err?.constructor?.name}: ${err?.message}`.slice(0, 2000) };
  }
}

const messages = [{ role: "user", content: "echo: hello from the sdk" }];

await scenario("chat", async () => {
  const r = await client.chat.send({ chatRequest: { model: "sim/openai", messages } });
  return { content: r.choices[0].message.content, fingerprint: r.systemFingerprint ?? null, id: r.id };
});

await scenario("fallback_models", async () => {
  const r = await client.chat.send({
    chatRequest: { models: ["sim/anthropic", "sim/openai"], messages },
  });
  return { model: r.model, content: r.choices[0].message.content };
});

await scenario("stream", async () => {
  const stream = await client.chat.send({
    chatRequest: { model: "sim/openai", messages, stream: true },
  });
  let text = "";
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
  }
  return { content: text };
});

await scenario("models", async () => {
  const r = (await client.models.list()).result;
  return { ids: r.data.map((m) => m.id), total: r.totalCount, next: r.links.next };
});

await scenario("endpoints", async () => {
  const r = await client.endpoints.list({ author: "sim", slug: "openai" });
  return { id: r.data.id, tool_choice: r.data.endpoints.map((e) => e.supportsToolChoice) };
});

await scenario("generation", async () => {
  const id = out.chat?.id;
  const r = await client.generations.getGeneration({ id });
  return { id: r.data.id, model: r.data.model };
});

await scenario("embeddings", async () => {
  const r = await client.embeddings.generate({
    requestBody: { model: "sim/embedding", input: "a sentence to embed" },
  });
  return { length: r.data[0].embedding.length };
});

async function typedError(name, run) {
  await scenario(name, async () => {
    try {
      await run();
      return { failed: "no error raised" };
    } catch (err) {
      if (err instanceof errors.OpenRouterError && err.data$?.error) {
        return { error: err.name, code: err.data$.error.code, status: err.statusCode };
      }
      throw err;
    }
  });
}

await typedError("unknown_model", () =>
  client.chat.send({ chatRequest: { model: "no/such-model", messages } }),
);
await typedError("unknown_endpoints", () =>
  client.endpoints.list({ author: "no", slug: "such-model" }),
);
await typedError("bad_request", () =>
  client.chat.send({ chatRequest: { model: "sim/openai", messages: [] } }),
);

console.log(JSON.stringify(out));
