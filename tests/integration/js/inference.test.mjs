// @huggingface/inference (npm, pinned in package.json) against a real `mlhub serve` on loopback:
// the JS InferenceClient pointed at /models/{id} (client.endpoint(url)), as a user points it at a
// self-hosted server. Models are published into a fresh hub with @huggingface/hub, each with a
// model card that sets pipeline_tag/tags the way the Hub does, so the server picks the task from
// the card. Expected values come from the transformers goldens (tests/golden) and from the mlhub
// library itself (`mlhub run` / `mlhub chat` on the same files), never from the server.
// Run: node --test tests/integration/js/ (MLHUB_BIN selects the binary, MLHUB_MODELS the folder
// with all-MiniLM-L6-v2 and the SmolLM2 GGUF that scripts/setup links).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openAsBlob, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "../../..");
const mlhub = resolve(process.env.MLHUB_BIN ?? join(root, "build/mlhub"));
const hubjs = process.env.MLHUB_HUBJS ?? join(homedir(), ".cache/mlhub/node/hubjs");
const requireJs = createRequire(join(hubjs, "package.json"));
const hub = await import(pathToFileURL(requireJs.resolve("@huggingface/hub")));
const { InferenceClient } = await import(pathToFileURL(requireJs.resolve("@huggingface/inference")));

const models = process.env.MLHUB_MODELS ?? join(homedir(), ".cache/mlhub/models");
const golden = join(root, "tests/golden");
const SENTIMENT = join(golden, "pipelines/models/bert-tiny-sentiment");
const MINILM = join(models, "all-MiniLM-L6-v2");
const SMOLLM2 = join(models, "SmolLM2-135M-Instruct.Q4_1.gguf");
const TOL = 1e-4; // the tolerance of the library's own parity tests against transformers

let server, hubUrl, token, dataDir;
const ids = {};

const jsonl = (path) => readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

function card(pipelineTag, libraryName, tags) {
  return ["---", `pipeline_tag: ${pipelineTag}`, `library_name: ${libraryName}`, "tags:", ...tags.map((t) => `- ${t}`),
    "---", "", "Published by the mlhub @huggingface/inference test.", ""].join("\n");
}

// Every file under `source` (a folder, recursively, or one file) plus a README card, through
// @huggingface/hub; big files go as blobs read from disk (LFS).
async function publish(name, source, readme) {
  const repo = { type: "model", name: `admin/${name}-${Math.random().toString(16).slice(2, 10)}` };
  await hub.createRepo({ repo, accessToken: token, hubUrl });
  const files = [{ path: "README.md", content: new Blob([readme]) }];
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      if (entry.startsWith(".") || entry === "README.md") continue;
      if (statSync(p).isDirectory()) walk(p);
      else files.push({ path: relative(source, p), p });
    }
  };
  if (statSync(source).isDirectory()) walk(source);
  else files.push({ path: source.split("/").pop(), p: source });
  for (const f of files) if (f.p) f.content = await openAsBlob(f.p);
  await hub.uploadFiles({ repo, accessToken: token, hubUrl, files: files.map(({ path, content }) => ({ path, content })) });
  return repo.name;
}

// The library's answer for the same input: `mlhub run` (one JSON line per input line) or
// `mlhub chat` (one reply a line on a pipe).
function library(args, input) {
  const r = spawnSync(mlhub, args, { input, encoding: "utf8", timeout: 120000 });
  assert.equal(r.status, 0, `mlhub ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

const client = (id) => new InferenceClient(token).endpoint(`${hubUrl}/models/${id}`);

before(async () => {
  for (const p of [SENTIMENT, MINILM, SMOLLM2]) assert.ok(existsSync(p), `${p} is missing: run scripts/setup (make test does)`);
  dataDir = mkdtempSync(join(tmpdir(), "mlhub-js-inf-"));
  server = spawn(mlhub, ["serve", "--data", join(dataDir, "data"), "--host", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  hubUrl = await new Promise((ok, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error("server did not start: " + seen)), 10000);
    server.stdout.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
  });
  server.stdout.resume(); // keep draining the log so the server never blocks on a full pipe
  token = readFileSync(join(dataDir, "data", "admin.token"), "utf8").trim();
  ids.sentiment = await publish("sentiment", SENTIMENT, card("text-classification", "transformers", ["text-classification"]));
  ids.minilm = await publish("minilm", MINILM, card("sentence-similarity", "sentence-transformers",
    ["sentence-transformers", "feature-extraction", "sentence-similarity"]));
  ids.smollm2 = await publish("smollm2", SMOLLM2, card("text-generation", "gguf", ["conversational", "gguf"]));
});

after(() => {
  server?.kill("SIGKILL");
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const close = (got, want, what) => assert.ok(Math.abs(got - want) <= TOL, `${what}: ${got} vs ${want}`);

test("textClassification: the nested-list shape the client requires, labels and scores of transformers", { timeout: 120000 }, async () => {
  const cases = jsonl(join(golden, "pipelines/text-classification.jsonl"))
    .filter((c) => c.model === "bert-tiny-sentiment" && Object.keys(c.params).length === 0).slice(0, 4);
  assert.equal(cases.length, 4);
  const c = client(ids.sentiment);
  for (const g of cases) {
    const got = await c.textClassification({ inputs: g.input });
    assert.ok(Array.isArray(got) && got.length >= 1, JSON.stringify(got));
    assert.equal(got[0].label, g.output[0].label, g.input);
    close(got[0].score, g.output[0].score, g.input);
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score, "sorted by score");
  }
  // top_k asks for every label: the three of id2label, softmax scores summing to 1, and the same
  // list as the library's pipeline.
  const all = await c.textClassification({ inputs: cases[0].input, parameters: { top_k: 3 } });
  assert.deepEqual(all.map((x) => x.label).sort(), ["NEGATIVE", "NEUTRAL", "POSITIVE"]);
  close(all.reduce((s, x) => s + x.score, 0), 1, "softmax sum");
  const lib = JSON.parse(library(["run", "text-classification", "--model", SENTIMENT, "--param", "top_k=3"], cases[0].input + "\n"));
  assert.deepEqual(all.map((x) => x.label), lib.map((x) => x.label));
  lib.forEach((x, i) => close(all[i].score, x.score, x.label));
});

test("featureExtraction: pooled, normalised MiniLM embeddings equal sentence-transformers'; a batch equals single calls", { timeout: 120000 }, async () => {
  const cases = jsonl(join(golden, "minilm/embeddings.jsonl")).slice(0, 3);
  // The client posts to the endpoint URL as-is (no /pipeline/ suffix): the server picks the
  // embedding task from the card and the string input.
  const c = client(ids.minilm);
  const single = [];
  for (const g of cases) {
    let got = await c.featureExtraction({ inputs: g.input });
    if (Array.isArray(got[0])) { assert.equal(got.length, 1); got = got[0]; } // [[...]] is accepted too
    assert.equal(got.length, 384);
    got.forEach((v, i) => close(v, g.embedding[i], `${g.input}[${i}]`));
    single.push(got);
  }
  const batch = await c.featureExtraction({ inputs: cases.map((g) => g.input) });
  assert.equal(batch.length, cases.length);
  batch.forEach((vec, k) => vec.forEach((v, i) => close(v, single[k][i], `batch[${k}][${i}]`)));
  // The form the client builds for a model id (/pipeline/feature-extraction) answers the same.
  const forced = new InferenceClient(token).endpoint(`${hubUrl}/models/${ids.minilm}/pipeline/feature-extraction`);
  let again = await forced.featureExtraction({ inputs: cases[0].input });
  if (Array.isArray(again[0])) again = again[0];
  again.forEach((v, i) => close(v, single[0][i], `pipeline form [${i}]`));
});

test("sentenceSimilarity: cosine scores equal sentence-transformers'", { timeout: 120000 }, async () => {
  const cases = jsonl(join(golden, "minilm/similarity.jsonl")).slice(0, 2);
  const c = client(ids.minilm);
  for (const g of cases) {
    const got = await c.sentenceSimilarity({ inputs: { source_sentence: g.source_sentence, sentences: g.sentences } });
    assert.equal(got.length, g.sentences.length);
    got.forEach((v, i) => close(v, g.output[i], `${g.source_sentence} ~ ${g.sentences[i]}`));
  }
});

// Greedy chat (temperature 0, as OpenAI and TGI define it) through the chat template of the GGUF.
const question = [{ role: "user", content: "What is the capital of France? Answer briefly." }];
const poem = [{ role: "user", content: "Write a short poem about the sea." }];

async function streamed(iterable) {
  let text = "", finish = null, chunks = 0;
  for await (const chunk of iterable) {
    assert.equal(chunk.object, "chat.completion.chunk");
    const choice = chunk.choices?.[0];
    if (!choice) continue; // a usage-only chunk
    chunks++;
    text += choice.delta?.content ?? "";
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { text, finish, chunks };
}

test("chatCompletion and chatCompletionStream: greedy replies equal the library's, streamed text equals the whole", { timeout: 180000 }, async () => {
  const c = client(ids.smollm2);
  const smol = JSON.parse(readFileSync(join(golden, "smollm2/case.json"), "utf8"));
  assert.deepEqual(smol.messages, question, "the golden prompt is the one asked here");

  const short = await c.chatCompletion({ messages: question, max_tokens: 32, temperature: 0 });
  assert.equal(short.object, "chat.completion");
  assert.equal(short.choices.length, 1);
  assert.equal(short.choices[0].message.role, "assistant");
  const reply = short.choices[0].message.content;
  assert.equal(reply, library(["chat", "--model", SMOLLM2, "--temperature", "0", "--max-new-tokens", "32"],
    question[0].content + "\n").replace(/\n$/, ""));
  assert.match(reply, /Paris/);
  assert.equal(short.choices[0].finish_reason, "stop", "the model ends its answer with <|im_end|>");
  // transformers' prompt ids for this conversation (the template adds SmolLM2's system message).
  assert.equal(short.usage.prompt_tokens, smol.prompts.chat.length);
  assert.ok(short.usage.completion_tokens > 0 && short.usage.completion_tokens <= 32);
  assert.equal(short.usage.total_tokens, short.usage.prompt_tokens + short.usage.completion_tokens);

  const s = await streamed(c.chatCompletionStream({ messages: question, max_tokens: 32, temperature: 0 }));
  assert.equal(s.text, reply);
  assert.equal(s.finish, "stop");

  // A reply cut by max_tokens: finish_reason "length", every token counted, and the stream of 48
  // tokens concatenates to the same text.
  const long = await c.chatCompletion({ messages: poem, max_tokens: 48, temperature: 0 });
  assert.equal(long.choices[0].finish_reason, "length");
  assert.equal(long.usage.completion_tokens, 48);
  assert.equal(long.choices[0].message.content,
    library(["chat", "--model", SMOLLM2, "--temperature", "0", "--max-new-tokens", "48"], poem[0].content + "\n").replace(/\n$/, ""));
  const ls = await streamed(c.chatCompletionStream({ messages: poem, max_tokens: 48, temperature: 0 }));
  assert.equal(ls.text, long.choices[0].message.content);
  assert.equal(ls.finish, "length");
  assert.ok(ls.chunks >= 2, "the reply came in several events");
});

test("textGeneration (POST /v1/completions): greedy continuation equals the library's; the stream concatenates to it", { timeout: 120000 }, async () => {
  const c = client(ids.smollm2);
  const prompt = "The quick brown fox";
  const got = await c.textGeneration({ inputs: prompt, parameters: { max_new_tokens: 16, temperature: 0 } });
  const [lib] = JSON.parse(library(["run", "text-generation", "--model", SMOLLM2, "--param", "max_new_tokens=16",
    "--param", "do_sample=false", "--param", "return_full_text=false"], prompt + "\n"));
  assert.equal(got.generated_text, lib.generated_text);
  assert.ok(got.generated_text.length > 0);
  // textGenerationStream posts the same body with "stream": true and yields the OpenAI
  // completion chunks as they come.
  let text = "", events = 0;
  for await (const chunk of c.textGenerationStream({ inputs: prompt, parameters: { max_new_tokens: 16, temperature: 0 } })) {
    events++;
    text += chunk.choices?.[0]?.text ?? "";
  }
  assert.equal(text, got.generated_text);
  assert.ok(events >= 2);
});

test("errors reach the client as errors: unknown model 404, wrong task 4xx, never a 503 retry loop", { timeout: 60000 }, async () => {
  const status = async (promise) => {
    try { await promise; } catch (e) { return e.httpResponse?.status ?? e; }
    assert.fail("the call should have failed");
  };
  // retry_on_error stays on (the default): a 503 here would loop until the test's timeout.
  assert.equal(await status(client("admin/no-such-model").textClassification({ inputs: "hi" })), 404);
  const wrong = await status(client(ids.sentiment).chatCompletion({ messages: question, max_tokens: 4 }));
  assert.ok(typeof wrong === "number" && wrong >= 400 && wrong < 500, `chat on a classifier answered ${wrong}`);
  const bad = await status(new InferenceClient("not-a-token").endpoint(`${hubUrl}/models/${ids.sentiment}`)
    .textClassification({ inputs: "hi" }));
  assert.equal(bad, 401);
});
