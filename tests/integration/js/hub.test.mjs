// @huggingface/hub (npm, pinned in package.json) against a real `mlhub serve` on loopback: the
// core flows of the JS client. Run: node --test tests/integration/js/ (MLHUB_BIN selects the
// binary; the client is installed by scripts/setup_hub_clients into ~/.cache/mlhub/node/hubjs).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir, homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "../../..");
const mlhub = resolve(process.env.MLHUB_BIN ?? join(root, "build/mlhub"));
const hubjs = process.env.MLHUB_HUBJS ?? join(homedir(), ".cache/mlhub/node/hubjs");
const hub = await import(pathToFileURL(createRequire(join(hubjs, "package.json")).resolve("@huggingface/hub")));

let server, hubUrl, accessToken, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "mlhub-js-"));
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
  accessToken = readFileSync(join(dataDir, "data", "admin.token"), "utf8").trim();
});

after(() => {
  server?.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

const creds = () => ({ accessToken, hubUrl });
const unique = (p) => `admin/${p}-${Math.random().toString(16).slice(2, 10)}`;

test("createRepo, uploadFiles (regular and a >10 MB LFS file), listFiles, fileExists, downloadFile", async () => {
  const repo = { type: "model", name: unique("js") };
  const result = await hub.createRepo({ repo, ...creds() });
  assert.equal(result.repoUrl, `${hubUrl}/${repo.name}`);
  const big = new Uint8Array(11 * 1024 * 1024 + 3);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 255;
  await hub.uploadFiles({ repo, ...creds(), files: [
    { path: "config.json", content: new Blob(['{"model_type":"bert"}']) },
    { path: "weights/big.bin", content: new Blob([big]) },
  ] });
  const files = [];
  for await (const f of hub.listFiles({ repo, recursive: true, ...creds() })) files.push(f);
  const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
  assert.deepEqual(Object.keys(byPath).sort(), [".gitattributes", "config.json", "weights", "weights/big.bin"]);
  assert.equal(byPath["weights/big.bin"].size, big.length);
  assert.ok(byPath["weights/big.bin"].lfs, "the big file went through LFS");
  assert.equal(await hub.fileExists({ repo, path: "config.json", ...creds() }), true);
  assert.equal(await hub.fileExists({ repo, path: "nope.json", ...creds() }), false);
  const blob = await hub.downloadFile({ repo, path: "weights/big.bin", ...creds() });
  const got = new Uint8Array(await blob.arrayBuffer());
  assert.equal(got.length, big.length);
  assert.ok(got.every((v, i) => v === big[i]), "downloaded bytes equal the uploaded ones");
  const cfg = await hub.downloadFile({ repo, path: "config.json", ...creds() });
  assert.equal(await cfg.text(), '{"model_type":"bert"}');
});

test("modelInfo, datasetInfo, listModels with search, whoAmI", async () => {
  const name = unique("jsinfo");
  await hub.createRepo({ repo: { type: "model", name }, ...creds() });
  const ds = unique("jsds");
  await hub.createRepo({ repo: { type: "dataset", name: ds }, ...creds() });
  const info = await hub.modelInfo({ name, ...creds() });
  assert.equal(info.name, name);
  assert.equal(info.private, false);
  const dinfo = await hub.datasetInfo({ name: ds, ...creds() });
  assert.equal(dinfo.name, ds);
  const found = [];
  for await (const m of hub.listModels({ search: { query: name.split("/")[1] }, ...creds() })) found.push(m.name);
  assert.deepEqual(found, [name]);
  const me = await hub.whoAmI(creds());
  assert.equal(me.name, "admin");
  assert.equal(me.type, "user");
});

test("deleteFile(s), createBranch, deleteBranch, deleteRepo", async () => {
  const repo = { type: "model", name: unique("jsops") };
  await hub.createRepo({ repo, ...creds() });
  await hub.uploadFiles({ repo, ...creds(), files: [
    { path: "a.txt", content: new Blob(["a"]) }, { path: "b.txt", content: new Blob(["b"]) }, { path: "c.txt", content: new Blob(["c"]) },
  ] });
  await hub.deleteFile({ repo, path: "a.txt", ...creds() });
  await hub.deleteFiles({ repo, paths: ["b.txt"], ...creds() });
  const left = [];
  for await (const f of hub.listFiles({ repo, ...creds() })) left.push(f.path);
  assert.deepEqual(left.sort(), [".gitattributes", "c.txt"]);
  await hub.createBranch({ repo, branch: "dev", ...creds() });
  await assert.rejects(hub.createBranch({ repo, branch: "dev", ...creds() }));
  await hub.uploadFiles({ repo, branch: "dev", ...creds(), files: [{ path: "d.txt", content: new Blob(["d"]) }] });
  assert.equal(await hub.fileExists({ repo, path: "d.txt", revision: "dev", ...creds() }), true);
  assert.equal(await hub.fileExists({ repo, path: "d.txt", ...creds() }), false);
  await hub.deleteBranch({ repo, branch: "dev", ...creds() });
  await hub.deleteRepo({ repo, ...creds() });
  await assert.rejects(hub.modelInfo({ name: repo.name, ...creds() }));
});

test("private repos are invisible without the right token", async () => {
  const repo = { type: "model", name: unique("jspriv") };
  await hub.createRepo({ repo, private: true, ...creds() });
  assert.equal((await hub.modelInfo({ name: repo.name, ...creds() })).private, true);
  await assert.rejects(hub.modelInfo({ name: repo.name, hubUrl }), (e) => e.statusCode === 401);
  const user = spawnSync(mlhub, ["user", "create", "jsuser", "--data", join(dataDir, "data")]);
  assert.equal(user.status, 0);
  const other = spawnSync(mlhub, ["token", "create", "--user", "jsuser", "--role", "read", "--data", join(dataDir, "data")]).stdout.toString().trim();
  await assert.rejects(hub.modelInfo({ name: repo.name, hubUrl, accessToken: other }), (e) => e.statusCode === 404);
});

test("uploadFile of a >10 MB file (xet offered, basic answered), downloadFileToCacheDir and snapshotDownload build the shared cache", async () => {
  const repo = { type: "model", name: unique("jscache") };
  await hub.createRepo({ repo, ...creds() });
  const big = new Uint8Array(10 * 1024 * 1024 + 777);
  for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 10)) & 255;
  const sha256 = createHash("sha256").update(big).digest("hex");
  await hub.uploadFile({ repo, ...creds(), file: { path: "model.safetensors", content: new Blob([big]) }, commitTitle: "one big file" });
  await hub.uploadFile({ repo, ...creds(), file: { path: "config.json", content: new Blob(['{"a":1}']) } });
  const [info] = await hub.pathsInfo({ repo, paths: ["model.safetensors"], expand: true, ...creds() });
  assert.equal(info.lfs.oid, sha256);
  assert.equal(info.size, big.length);
  assert.equal(info.lastCommit.title, "one big file");
  assert.match(info.lastCommit.id, /^[0-9a-f]{40}$/);
  assert.ok(info.lastCommit.date instanceof Date && !Number.isNaN(info.lastCommit.date.getTime()));
  const cacheDir = mkdtempSync(join(tmpdir(), "mlhub-js-cache-"));
  try {
    const path = await hub.downloadFileToCacheDir({ repo, path: "model.safetensors", cacheDir, ...creds() });
    const blob = realpathSync(path);
    assert.equal(basename(blob), sha256, "blob named by the LFS sha256 (hub-api.md §2.4)");
    assert.equal(basename(dirname(blob)), "blobs");
    assert.equal(createHash("sha256").update(readFileSync(path)).digest("hex"), sha256);
    const snap = await hub.snapshotDownload({ repo, cacheDir, ...creds() });
    assert.equal(readFileSync(join(snap, "config.json"), "utf8"), '{"a":1}');
    assert.equal(createHash("sha256").update(readFileSync(join(snap, "model.safetensors"))).digest("hex"), sha256);
    const commits = [];
    for await (const c of hub.listCommits({ repo, ...creds() })) commits.push(c);
    assert.equal(basename(snap), commits[0].oid, "snapshot folder named by the head commit");
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test("listCommits pages through Link headers, countCommits reads X-Total-Count, repoExists", async () => {
  const repo = { type: "model", name: unique("jscommits") };
  await hub.createRepo({ repo, ...creds() });
  for (let i = 0; i < 4; i++) {
    await hub.uploadFile({ repo, ...creds(), file: { path: `f${i}.txt`, content: new Blob([String(i)]) }, commitTitle: `commit ${i}` });
  }
  const titles = [];
  for await (const c of hub.listCommits({ repo, batchSize: 2, ...creds() })) titles.push(c.title);
  assert.deepEqual(titles, ["commit 3", "commit 2", "commit 1", "commit 0", "initial commit"]);
  assert.equal(await hub.countCommits({ repo, ...creds() }), 5);
  assert.equal(await hub.repoExists({ repo, ...creds() }), true);
  assert.equal(await hub.repoExists({ repo: { type: "model", name: unique("nope") }, ...creds() }), false);
  assert.equal(await hub.repoExists({ repo: { type: "dataset", name: repo.name }, ...creds() }), false);
});

test("listDatasets with search and owner; datasetInfo of a dataset with files", async () => {
  const name = unique("jsdata");
  const repo = { type: "dataset", name };
  await hub.createRepo({ repo, ...creds() });
  await hub.uploadFiles({ repo, ...creds(), files: [{ path: "train.csv", content: new Blob(["a,b\n1,2\n"]) }] });
  const found = [];
  for await (const d of hub.listDatasets({ search: { query: name.split("/")[1], owner: "admin" }, ...creds() })) found.push(d.name);
  assert.deepEqual(found, [name]);
  const info = await hub.datasetInfo({ name, ...creds() });
  assert.equal(info.name, name);
  const files = [];
  for await (const f of hub.listFiles({ repo, ...creds() })) files.push(f.path);
  assert.deepEqual(files.sort(), [".gitattributes", "train.csv"]);
  const csv = await hub.downloadFile({ repo, path: "train.csv", ...creds() });
  assert.equal(await csv.text(), "a,b\n1,2\n");
});
