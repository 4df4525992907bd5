"""The contract of hub-api.md checked where the other modules do not: the §5.3 matrix on every
read route (status, X-Error-Code, X-Error-Message, a JSON body), gated and write-permission
answers, 409s, dates, absolute URLs, the Xet policy of §4.8 on preupload, LFS files on /resolve
(HEAD headers, ranges, raw pointers), revision spellings (§1.2), refs/commits extras, PR refs,
listing sorts, moves and deletes by strangers, and hostile paths in every NDJSON op kind."""
import hashlib
import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError,
                                    RevisionNotFoundError)

from conftest import unique, write_files

BAD_TOKEN_MESSAGE = "Invalid credentials in Authorization header"
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
SHA1 = re.compile(r"^[0-9a-f]{40}$")


def req(hub, method, path, token=None, **kw):
    headers = dict(kw.pop("headers", {}))
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.request(method, hub.url + path, headers=headers, timeout=60, **kw)


def assert_error(r, status, code=None):
    """An error answer as §1.4 wants it: the status, X-Error-Code (or none), a non-empty
    X-Error-Message, and a JSON body with `error` (JS reads it only from application/json)."""
    where = f"{r.request.method} {r.request.url} -> {r.status_code} {dict(r.headers)} {r.text[:300]!r}"
    assert r.status_code == status, where
    if code is None:
        assert r.headers.get("x-error-code") in (None, ""), where
    else:
        assert r.headers.get("x-error-code") == code, where
    assert r.headers.get("x-error-message"), where
    if r.request.method != "HEAD":
        assert r.headers.get("content-type", "").startswith("application/json"), where
        assert r.json().get("error"), where


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.fixture(scope="module")
def repos(hub):
    """A public model with a nested file, a private model, a manually gated model, a public
    dataset; an outsider with a write token and one with a read token."""
    api = hub.api()
    out = {"public": unique("admin/cpub"), "private": unique("admin/cpriv"), "gated": unique("admin/cgated"),
           "dataset": unique("admin/cds")}
    for key in ("public", "private", "gated"):
        api.create_repo(out[key], private=(key == "private"))
        api.create_commit(out[key], operations=[CommitOperationAdd("config.json", b'{"x": 1}'),
                                                CommitOperationAdd("sub/dir/file.txt", b"nested")],
                          commit_message="files")
    api.update_repo_settings(out["gated"], gated="manual")
    api.create_repo(out["dataset"], repo_type="dataset")
    api.upload_file(path_or_fileobj=b"a,b\n1,2\n", path_in_repo="data.csv", repo_id=out["dataset"], repo_type="dataset")
    out["outsider"] = hub.user("olga")
    out["reader"] = hub.user("olga", role="read")
    return out


# --- §5.3: missing and private repos on every read route -------------------------------------------------

READ_ROUTES = [
    ("GET", "/api/models/{id}"),
    ("GET", "/api/models/{id}/revision/main"),
    ("GET", "/api/models/{id}/tree/main"),
    ("GET", "/api/models/{id}/tree/main/sub"),
    ("POST", "/api/models/{id}/paths-info/main"),
    ("GET", "/api/models/{id}/refs"),
    ("GET", "/api/models/{id}/commits/main"),
    ("GET", "/{id}/resolve/main/config.json"),
    ("HEAD", "/{id}/resolve/main/config.json"),
    ("HEAD", "/{id}/raw/main/config.json"),
]


@pytest.mark.parametrize("method,route", READ_ROUTES)
def test_missing_and_private_repos_on_every_read_route(hub, repos, method, route):
    kw = {"data": {"paths": "config.json"}} if method == "POST" else {}
    for repo in (unique("admin/nothere"), repos["private"]):
        anon = req(hub, method, route.format(id=repo), **kw)
        assert_error(anon, 401, "RepoNotFound")
        assert anon.headers["x-error-message"] != BAD_TOKEN_MESSAGE
        other = req(hub, method, route.format(id=repo), token=repos["outsider"], **kw)
        assert_error(other, 404, "RepoNotFound")
    assert req(hub, method, route.format(id=repos["private"]), token=hub.admin_token, **kw).status_code == 200


@pytest.mark.parametrize("route", ["/api/datasets/{id}", "/datasets/{id}/resolve/main/data.csv",
                                   "/api/datasets/{id}/tree/main"])
def test_dataset_routes_and_type_mismatch(hub, repos, route):
    ds = repos["dataset"]
    assert req(hub, "GET", route.format(id=ds)).status_code == 200
    # The same id as a model does not exist: the repo type is part of the identity.
    wrong = route.replace("/api/datasets/", "/api/models/").replace("/datasets/", "/").format(id=ds)
    assert_error(req(hub, "GET", wrong, token=hub.admin_token), 404, "RepoNotFound")


def test_bad_token_on_every_kind_of_route(hub, repos):
    for method, route in READ_ROUTES + [("GET", "/api/whoami-v2")]:
        kw = {"data": {"paths": "config.json"}} if method == "POST" else {}
        r = req(hub, method, route.format(id=repos["public"]), token="hf_" + "x" * 34, **kw)
        assert r.status_code == 401, route
        assert r.headers.get("x-error-message") == BAD_TOKEN_MESSAGE, route
        assert r.headers.get("x-error-code") in (None, ""), route
    assert req(hub, "GET", "/api/whoami-v2").status_code == 401
    with pytest.raises(HfHubHTTPError) as e:
        HfApi(endpoint=hub.url, token="hf_" + "x" * 34).whoami()
    assert e.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as e:
        hf_hub_download(repos["public"], "config.json", endpoint=hub.url, token="hf_" + "y" * 34,
                        cache_dir=str(hub.data.parent / "cbad"))
    assert not isinstance(e.value, RepositoryNotFoundError) and e.value.response.status_code == 401


# --- §5.3: revisions and entries -------------------------------------------------------------------------

@pytest.mark.parametrize("method,route", [
    ("GET", "/api/models/{id}/revision/nope"), ("GET", "/api/models/{id}/tree/nope"),
    ("GET", "/api/models/{id}/commits/nope"), ("POST", "/api/models/{id}/paths-info/nope"),
    ("GET", "/{id}/resolve/nope/config.json"), ("HEAD", "/{id}/resolve/nope/config.json"),
    ("GET", "/{id}/resolve/0123456789abcdef0123456789abcdef01234567/config.json"),
    ("POST", "/api/models/{id}/preupload/nope"),
])
def test_unknown_revision(hub, repos, method, route):
    kw = {}
    if "paths-info" in route:
        kw = {"data": {"paths": "config.json"}}
    elif "preupload" in route:
        kw = {"json": {"files": [{"path": "a.txt", "size": 1, "sample": "YQ=="}]}}
    assert_error(req(hub, method, route.format(id=repos["public"]), token=hub.admin_token, **kw), 404, "RevisionNotFound")


def test_revision_and_entry_errors_through_the_client(hub, repos, tmp_path):
    api = hub.api()
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repos["public"], "config.json", revision="nope", endpoint=hub.url, token=hub.admin_token,
                        cache_dir=str(tmp_path / "c"))
    with pytest.raises(RevisionNotFoundError):
        list(api.list_repo_tree(repos["public"], revision="nope"))
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_commits(repos["public"], revision="nope")
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree(repos["public"], path_in_repo="no/such/dir"))
    # A missing file leaves the .no_exist marker under the commit the server named (X-Repo-Commit).
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repos["public"], "tokenizer.json", endpoint=hub.url, token=hub.admin_token,
                        cache_dir=str(tmp_path / "c"))
    sha = api.model_info(repos["public"]).sha
    marker = tmp_path / "c" / ("models--" + repos["public"].replace("/", "--")) / ".no_exist" / sha / "tokenizer.json"
    assert marker.exists()
    r = req(hub, "GET", f"/api/models/{repos['public']}/tree/main/no/such/dir", token=hub.admin_token)
    assert_error(r, 404, "EntryNotFound")
    r = req(hub, "HEAD", f"/{repos['public']}/resolve/main/sub/dir", token=hub.admin_token)  # a folder is no file
    assert_error(r, 404, "EntryNotFound")
    assert r.headers["x-repo-commit"] == sha


# --- §5.3: gated -----------------------------------------------------------------------------------------

def test_gated_manual(hub, repos, tmp_path):
    gated = repos["gated"]
    for route in (f"/{gated}/resolve/main/config.json",):
        assert_error(req(hub, "GET", route), 401, "GatedRepo")
        assert_error(req(hub, "HEAD", route), 401, "GatedRepo")
        assert_error(req(hub, "GET", route, token=repos["outsider"]), 403, "GatedRepo")
        assert req(hub, "GET", route, token=hub.admin_token).status_code == 200
    # Metadata stays readable for everyone.
    for route in (f"/api/models/{gated}", f"/api/models/{gated}/tree/main", f"/api/models/{gated}/refs"):
        assert req(hub, "GET", route).status_code == 200, route
        assert req(hub, "GET", route, token=repos["outsider"]).status_code == 200, route
    with pytest.raises(GatedRepoError):
        hf_hub_download(gated, "config.json", endpoint=hub.url, token=repos["outsider"], cache_dir=str(tmp_path / "c"))
    # auth-check (§3.7): 200 when allowed, the GatedRepo codes otherwise.
    assert req(hub, "GET", f"/api/models/{gated}/auth-check", token=hub.admin_token).status_code == 200
    assert_error(req(hub, "GET", f"/api/models/{gated}/auth-check", token=repos["outsider"]), 403, "GatedRepo")
    assert_error(req(hub, "GET", f"/api/models/{gated}/auth-check"), 401, "GatedRepo")


# --- §5.3 / §5.4: writes without permission, 409s, 412 ---------------------------------------------------

def test_writes_without_permission(hub, repos):
    pub = repos["public"]
    commit = '{"key":"header","value":{"summary":"x"}}\n{"key":"file","value":{"path":"w.txt","content":"eA==","encoding":"base64"}}\n'
    ndjson = {"content-type": "application/x-ndjson"}
    head = hub.api().model_info(pub).sha
    for token in (repos["reader"], repos["outsider"]):
        assert_error(req(hub, "POST", f"/api/models/{pub}/commit/main", token=token, content=commit, headers=ndjson), 403)
        assert_error(req(hub, "POST", f"/api/models/{pub}/branch/b1", token=token, json={}), 403)
        assert_error(req(hub, "POST", f"/api/models/{pub}/tag/main", token=token, json={"tag": "t1"}), 403)
        assert_error(req(hub, "PUT", f"/api/models/{pub}/settings", token=token, json={"private": True}), 403)
        assert_error(req(hub, "DELETE", "/api/repos/delete", token=token, json={"name": pub.split("/")[1],
                                                                                 "organization": "admin"}), 403)
        assert_error(req(hub, "POST", "/api/repos/move", token=token,
                         json={"fromRepo": pub, "toRepo": unique("olga/stolen"), "type": "model"}), 403)
    assert_error(req(hub, "POST", "/api/repos/create", token=repos["reader"], json={"name": unique("mine")}), 403)
    # Anonymous writes: refused (the spec names no status; HF answers 401).
    assert req(hub, "POST", f"/api/models/{pub}/commit/main", content=commit, headers=ndjson).status_code in (401, 403)
    assert req(hub, "POST", "/api/repos/create", json={"name": unique("anon")}).status_code in (401, 403)
    # Writing to a private repo one cannot see reveals nothing: 404 RepoNotFound, not 403.
    assert_error(req(hub, "POST", f"/api/models/{repos['private']}/commit/main", token=repos["outsider"],
                     content=commit, headers=ndjson), 404, "RepoNotFound")
    assert hub.api().model_info(pub).sha == head
    assert [b.name for b in hub.api().list_repo_refs(pub).branches] == ["main"]
    # Through the client: a plain HfHubHTTPError 403, and create_repo(exist_ok) with a read token
    # succeeds on a repo it can see (it falls back to repo_info).
    reader = hub.api(repos["reader"])
    assert reader.whoami()["auth"]["accessToken"]["role"] == "read"
    with pytest.raises(HfHubHTTPError) as e:
        reader.create_branch(pub, branch="nope")
    assert e.value.response.status_code == 403 and not isinstance(e.value, RepositoryNotFoundError)
    assert reader.create_repo(pub, exist_ok=True).repo_id == pub


def test_conflicts_are_409(hub, repos):
    api = hub.api()
    pub = repos["public"]
    r = req(hub, "POST", "/api/repos/create", token=hub.admin_token, json={"name": pub.split("/")[1], "organization": None})
    assert r.status_code == 409 and r.json()["url"] == f"{hub.url}/{pub}"
    api.create_branch(pub, branch="c409")
    assert req(hub, "POST", f"/api/models/{pub}/branch/c409", token=hub.admin_token, json={}).status_code == 409
    api.create_tag(pub, tag="t409")
    with pytest.raises(HfHubHTTPError) as e:
        api.create_tag(pub, tag="t409")
    assert e.value.response.status_code == 409
    api.create_tag(pub, tag="t409", exist_ok=True)
    other = unique("admin/c409b")
    api.create_repo(other)
    r = req(hub, "POST", "/api/repos/move", token=hub.admin_token, json={"fromRepo": other, "toRepo": pub, "type": "model"})
    assert r.status_code == 409
    assert api.model_info(other).id == other


def test_stale_parent_commit_is_412_raw(hub, repos):
    pub = repos["public"]
    api = hub.api()
    old = api.model_info(pub).sha
    api.upload_file(path_or_fileobj=b"bump", path_in_repo="bump.txt", repo_id=pub)
    body = json.dumps({"key": "header", "value": {"summary": "stale", "parentCommit": old}}) + "\n" + \
        '{"key":"file","value":{"path":"stale.txt","content":"eA==","encoding":"base64"}}\n'
    r = req(hub, "POST", f"/api/models/{pub}/commit/main", token=hub.admin_token, content=body,
            headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 412 and r.headers["content-type"].startswith("application/json")
    assert "stale.txt" not in api.list_repo_files(pub)
    # The current head as parent (also abbreviated, §4.9: 5-40 hex) is accepted.
    head = api.model_info(pub).sha
    api.create_commit(pub, operations=[CommitOperationAdd("fresh.txt", b"f")], commit_message="fresh",
                      parent_commit=head)
    # A commit to a tag or a commit id is refused (§4.9): 404 RevisionNotFound.
    api.create_tag(pub, tag="frozen")
    for rev in ("frozen", head):
        r = req(hub, "POST", f"/api/models/{pub}/commit/{rev}", token=hub.admin_token,
                content='{"key":"header","value":{"summary":"x"}}\n', headers={"content-type": "application/x-ndjson"})
        assert_error(r, 404, "RevisionNotFound")


# --- orgs --------------------------------------------------------------------------------------------------

def test_org_roles(hub):
    writer, reader, stranger = hub.user("wendy"), hub.user("rita"), hub.user("sam")
    org = unique("org")
    hub.cli("org", "create", org, "--member", "wendy:write", "--member", "rita:read")
    secret = hub.api(writer).create_repo(f"{org}/secret", private=True).repo_id
    hub.api(writer).upload_file(path_or_fileobj=b"s", path_in_repo="s.txt", repo_id=secret)
    assert hub.api(reader).model_info(secret).private is True  # read members see private org repos
    with pytest.raises(HfHubHTTPError) as e:
        hub.api(reader).upload_file(path_or_fileobj=b"r", path_in_repo="r.txt", repo_id=secret)
    assert e.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as e:
        hub.api(reader).create_repo(f"{org}/by-reader")
    assert e.value.response.status_code == 403
    with pytest.raises(RepositoryNotFoundError):
        hub.api(stranger).model_info(secret)
    assert secret not in {m.id for m in hub.api(stranger).list_models(author=org)}
    assert secret in {m.id for m in hub.api(reader).list_models(author=org)}
    me = hub.api(reader).whoami()
    assert me["name"] == "rita" and me["type"] == "user" and [o["name"] for o in me["orgs"]] == [org]
    assert me["auth"]["accessToken"]["role"] == "write"  # an org read member with a write token
    hub.api(writer).delete_repo(secret)


# --- JSON shapes: dates, URLs, refs, commits ---------------------------------------------------------------

def test_dates_urls_and_shapes(hub, repos):
    pub = repos["public"]
    name = unique("shape")
    r = req(hub, "POST", "/api/repos/create", token=hub.admin_token, json={"name": name, "type": "dataset",
                                                                            "visibility": "private"})
    assert r.status_code == 200
    body = r.json()
    assert body["url"] == f"{hub.url}/datasets/admin/{name}" and body["name"] == f"admin/{name}" and body["id"]
    assert hub.api().dataset_info(f"admin/{name}").private is True
    r = req(hub, "POST", "/api/repos/create", token=hub.admin_token, json={"name": unique("legacy"), "private": True})
    assert r.status_code == 200
    assert hub.api().model_info(r.json()["name"]).private is True  # the ≤1.7 `private` field
    info = req(hub, "GET", f"/api/models/{pub}").json()
    for key in ("id", "_id", "sha", "siblings", "private", "gated", "disabled", "tags", "downloads", "likes",
                "lastModified", "createdAt", "author"):
        assert key in info, key
    assert info["id"] == pub and SHA1.match(info["sha"]) and info["author"] == "admin"
    assert DATE.match(info["lastModified"]) and DATE.match(info["createdAt"])
    assert info["gated"] is False and info["private"] is False
    only = req(hub, "GET", f"/api/models/{pub}", params=[("expand", "sha"), ("expand", "private")]).json()
    assert set(only) <= {"_id", "id", "sha", "private"} and {"id", "sha", "private"} <= set(only)
    assert req(hub, "GET", f"/api/models/{pub}/revision/HEAD").json()["sha"] == info["sha"]
    commits = req(hub, "GET", f"/api/models/{pub}/commits/main", params={"limit": 1}, token=hub.admin_token)
    assert len(commits.json()) == 1 and int(commits.headers["x-total-count"]) >= 2
    assert commits.headers["link"].startswith(f"<{hub.url}/api/models/{pub}/commits/main?")
    assert re.fullmatch(r'<https?://[^>]+>;\s+rel="next"', commits.headers["link"])
    c = commits.json()[0]
    assert SHA1.match(c["id"]) and DATE.match(c["date"]) and c["authors"][0]["user"] == "admin" and c["title"]
    tree = req(hub, "GET", f"/api/models/{pub}/tree/main", params={"expand": "true", "recursive": "true"}).json()
    for entry in tree:
        assert set(entry["lastCommit"]) >= {"id", "title", "date"} and DATE.match(entry["lastCommit"]["date"])
        assert "xetHash" not in entry
    refs = req(hub, "GET", f"/api/models/{pub}/refs", params={"include_prs": "1"}).json()
    assert {"branches", "converts", "tags", "pullRequests"} <= set(refs)
    assert hub.api().list_repo_refs(pub, include_pull_requests=True).pull_requests == []
    # Xet is never advertised (§0 item 9, §2.7).
    head = req(hub, "HEAD", f"/{pub}/resolve/main/config.json")
    assert "x-xet-hash" not in head.headers and "xet-auth" not in head.headers.get("link", "")
    # Python's own trace id comes back as X-Request-Id (§1.4).
    r = req(hub, "GET", f"/api/models/{pub}", headers={"x-amzn-trace-id": "trace-123"})
    assert r.headers.get("x-request-id")


def test_revision_spellings(hub, repos):
    """§1.2: revisions percent-encoded or raw, refs/pr/N, HEAD, abbreviated commits; tree
    sub-paths as one %2F segment (Python) or raw (JS)."""
    api = hub.api()
    pub = repos["public"]
    info = api.upload_file(path_or_fileobj=b"proposal", path_in_repo="pr.txt", repo_id=pub, create_pr=True,
                           commit_message="a proposal")
    assert info.pr_url and re.search(r"/discussions/\d+$", info.pr_url) and info.pr_url.startswith(hub.url)
    num = info.pr_num
    assert "pr.txt" not in api.list_repo_files(pub)
    assert "pr.txt" in api.list_repo_files(pub, revision=f"refs/pr/{num}")
    for rev in (f"refs%2Fpr%2F{num}", f"refs/pr/{num}"):
        r = req(hub, "GET", f"/{pub}/resolve/{rev}/pr.txt", token=hub.admin_token)
        assert r.status_code == 200 and r.content == b"proposal", rev
    assert [p.ref for p in api.list_repo_refs(pub, include_pull_requests=True).pull_requests] == [f"refs/pr/{num}"]
    api.create_branch(pub, branch="feature/x")
    # A branch with a slash only works encoded (raw, "feature/x/sub" is ambiguous); the raw forms
    # the router must know are refs/pr/<n> and refs/convert/<word>.
    for rev in ("feature%2Fx", f"refs/pr/{num}", f"refs%2Fpr%2F{num}"):
        r = req(hub, "GET", f"/api/models/{pub}/tree/{rev}/sub%2Fdir", token=hub.admin_token)
        assert r.status_code == 200 and [e["path"] for e in r.json()] == ["sub/dir/file.txt"], rev
    r = req(hub, "GET", f"/api/models/{pub}/commits/refs/pr/{num}", token=hub.admin_token)  # JS: raw in commits/
    assert r.status_code == 200 and r.json()[0]["title"] == "a proposal"
    assert api.model_info(pub, revision="feature/x").sha == api.model_info(pub).sha
    sha = api.model_info(pub).sha
    for rev in ("HEAD", sha, sha[:5], sha[:12]):
        r = req(hub, "GET", f"/{pub}/resolve/{rev}/config.json")
        assert r.status_code == 200 and r.headers["x-repo-commit"] == sha, rev
    r = req(hub, "GET", f"/api/models/{pub}/tree/main/sub/dir")  # raw sub-path (JS)
    assert r.status_code == 200 and [e["path"] for e in r.json()] == ["sub/dir/file.txt"]
    r = req(hub, "GET", f"/{pub}/resolve/main/config.json", params={"noContentDisposition": "1", "whatever": "x"})
    assert r.status_code == 200


# --- §4.8: the Xet policy on preupload -------------------------------------------------------------------

def preupload(hub, repo, user_agent, files):
    body = {"files": [{"path": p, "size": n, "sample": s} for p, n, s in files]}
    return req(hub, "POST", f"/api/models/{repo}/preupload/main", token=hub.admin_token, json=body,
               headers={"user-agent": user_agent})


def test_preupload_modes_by_client_version(hub, repos):
    import base64
    binary = base64.b64encode(bytes(range(256)) * 2).decode()
    text = base64.b64encode(b"hello world\n" * 40).decode()
    files = [("big.txt", 11 * 1000 * 1000, text), ("w.safetensors", 100, binary), ("small.txt", 100, text),
             ("blob.dat", 100, binary)]
    new = preupload(hub, repos["public"], "unknown/None; hf_hub/2.4.0; python/3.11.2; torch/2.9.1", files)
    assert new.status_code == 200
    modes = {f["path"]: f["uploadMode"] for f in new.json()["files"]}
    assert modes == {p: "regular" for p, _, _ in files}  # hf_hub >= 1.20: everything regular
    assert all(f["shouldIgnore"] is False for f in new.json()["files"])
    assert new.headers.get("x-hf-warning")  # tells users about HF_HUB_DISABLE_XET=1
    for ua in ("unknown/None; hf_hub/1.19.0; python/3.11.2", "huggingface.js/2.17.5", "git-lfs/3.6.1"):
        old = preupload(hub, repos["public"], ua, files)
        assert old.status_code == 200
        modes = {f["path"]: f["uploadMode"] for f in old.json()["files"]}
        assert modes == {"big.txt": "lfs", "w.safetensors": "lfs", "small.txt": "regular", "blob.dat": "lfs"}, ua
    assert SHA1.match(new.json().get("commitOid", "0" * 40))


@pytest.mark.parametrize("fixture,disable_xet,expect_lfs", [
    ("hub", False, False),     # hf_xet active: the server's regular fallback
    ("hub", True, False),      # HF_HUB_DISABLE_XET=1 against the default server: still regular (UA-based)
    ("lfs_hub", True, True),   # --xet-fallback lfs with HF_HUB_DISABLE_XET=1: the LFS batch path
])
def test_big_upload_round_trips_in_every_mode(request, tmp_path, fixture, disable_xet, expect_lfs):
    hub = request.getfixturevalue(fixture)
    data = os.urandom(10 * 1024 * 1024 + 333)
    repo = unique("admin/mode")
    folder = write_files(tmp_path / "up", {"payload.bin": data, "notes.txt": "n"})
    env = {"HF_HUB_DISABLE_XET": "1"} if disable_xet else {}
    out = hub.python(f"""
        from huggingface_hub import HfApi, constants
        from huggingface_hub.utils._runtime import is_xet_available
        print("xet-active", is_xet_available() and not constants.HF_HUB_DISABLE_XET)
        api = HfApi()
        api.create_repo("{repo}")
        print(api.upload_folder(repo_id="{repo}", folder_path="{folder}").oid)
    """, env=env)
    assert f"xet-active {not disable_xet}" in out  # the variant really ran with / without Xet
    commit = out.strip().splitlines()[-1]
    info = hub.api().model_info(repo, files_metadata=True)
    assert info.sha == commit
    sib = next(s for s in info.siblings if s.rfilename == "payload.bin")
    assert sib.size == len(data) and (sib.lfs is not None) == expect_lfs
    if expect_lfs:
        assert sib.lfs.sha256 == hashlib.sha256(data).hexdigest() and sib.lfs.size == len(data)
    else:
        assert sib.blob_id == git_sha1(data)
    path = hf_hub_download(repo, "payload.bin", endpoint=hub.url, token=hub.admin_token, cache_dir=str(tmp_path / "c"))
    assert Path(path).read_bytes() == data
    blob = hashlib.sha256(data).hexdigest() if expect_lfs else git_sha1(data)
    assert Path(path).resolve().name == blob and Path(path).resolve().parent.name == "blobs"


# --- LFS files on /resolve and /raw ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def lfs_file(hub, repos):
    """An LFS file committed through the batch API (as JS and git-lfs do)."""
    data = os.urandom(300_000)
    oid = hashlib.sha256(data).hexdigest()
    repo = unique("admin/clfs")
    hub.api().create_repo(repo)
    r = req(hub, "POST", f"/{repo}.git/info/lfs/objects/batch", token=hub.admin_token,
            content=json.dumps({"operation": "upload", "transfers": ["basic", "multipart", "xet"], "hash_algo": "sha_256",
                                "objects": [{"oid": oid, "size": len(data)}]}),
            headers={"content-type": "application/vnd.git-lfs+json", "accept": "application/vnd.git-lfs+json"})
    assert r.status_code == 200 and r.json().get("transfer", "basic") == "basic"
    assert r.headers["content-type"].startswith("application/vnd.git-lfs+json")
    obj = r.json()["objects"][0]
    href = obj["actions"]["upload"]["href"]
    assert href.startswith(hub.url)
    assert httpx.put(href, content=data, timeout=60).status_code in (200, 201)
    # Offered again, the object is already stored: no actions.
    r = req(hub, "POST", f"/{repo}.git/info/lfs/objects/batch", token=hub.admin_token,
            content=json.dumps({"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": len(data)}]}),
            headers={"content-type": "application/vnd.git-lfs+json", "accept": "application/vnd.git-lfs+json"})
    assert "actions" not in r.json()["objects"][0]
    body = '{"key":"header","value":{"summary":"weights"}}\n' + json.dumps(
        {"key": "lfsFile", "value": {"path": "model.safetensors", "algo": "sha256", "oid": oid, "size": len(data)}}) + "\n"
    r = req(hub, "POST", f"/api/models/{repo}/commit/main", token=hub.admin_token, content=body,
            headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 200
    assert r.json()["commitUrl"] == f"{hub.url}/{repo}/commit/{r.json()['commitOid']}"
    return {"repo": repo, "data": data, "oid": oid, "commit": r.json()["commitOid"]}


def test_lfs_file_headers_ranges_raw_and_metadata(hub, lfs_file, tmp_path):
    repo, data, oid = lfs_file["repo"], lfs_file["data"], lfs_file["oid"]
    url = f"/{repo}/resolve/main/model.safetensors"
    head = req(hub, "HEAD", url, headers={"accept-encoding": "identity"})
    assert head.status_code == 200  # served directly (hub-api.md §2.2 recommendation)
    assert head.headers["x-repo-commit"] == lfs_file["commit"]
    assert head.headers["etag"] == f'"{oid}"' and head.headers["x-linked-etag"] == f'"{oid}"'
    assert head.headers["x-linked-size"] == str(len(data)) and head.headers["content-length"] == str(len(data))
    assert head.headers["accept-ranges"] == "bytes"
    assert head.headers.get("content-disposition", "").split(";")[0] in ("attachment", "inline")
    part = req(hub, "GET", url, headers={"range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}" and part.headers["content-length"] == "1000"
    first = req(hub, "GET", url, headers={"range": "bytes=0-0"})  # the JS fileDownloadInfo probe
    assert first.status_code == 206 and first.content == data[:1]
    assert first.headers["content-range"] == f"bytes 0-0/{len(data)}"
    rest = req(hub, "GET", url, headers={"range": f"bytes={len(data) - 10}-"})
    assert rest.status_code == 206 and rest.content == data[-10:]
    over = req(hub, "GET", url, headers={"range": f"bytes={len(data) - 10}-{len(data) + 100}"})
    assert over.status_code == 206 and over.content == data[-10:]
    bad = req(hub, "GET", url, headers={"range": f"bytes={len(data)}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(data)}"
    full = req(hub, "GET", url)
    assert full.status_code == 200 and full.content == data
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n".encode()
    raw = req(hub, "GET", f"/{repo}/raw/main/model.safetensors")
    assert raw.status_code == 200 and raw.content == pointer
    entry = req(hub, "GET", f"/api/models/{repo}/tree/main").json()
    f = next(e for e in entry if e["path"] == "model.safetensors")
    expected = {"type": "file", "oid": git_sha1(pointer), "size": len(data), "path": "model.safetensors",
                "lfs": {"oid": oid, "size": len(data), "pointerSize": len(pointer)}}
    assert {k: f.get(k) for k in expected} == expected
    info = req(hub, "GET", f"/api/models/{repo}", params={"blobs": "true"}).json()
    sib = next(s for s in info["siblings"] if s["rfilename"] == "model.safetensors")
    assert sib["lfs"]["sha256"] == oid and sib["size"] == len(data) and sib["blobId"] == git_sha1(pointer)
    pinfo = req(hub, "POST", f"/api/models/{repo}/paths-info/main", json={"paths": ["model.safetensors", "x"], "expand": True})
    assert [p["path"] for p in pinfo.json()] == ["model.safetensors"] and pinfo.json()[0]["lfs"]["oid"] == oid
    assert pinfo.json()[0]["lastCommit"]["id"] == lfs_file["commit"]
    path = hf_hub_download(repo, "model.safetensors", endpoint=hub.url, token=hub.admin_token, cache_dir=str(tmp_path / "c"))
    assert Path(path).read_bytes() == data and Path(path).resolve().name == oid
    # .gitattributes tracks the committed LFS path.
    attrs = req(hub, "GET", f"/{repo}/resolve/main/.gitattributes").text
    assert "*.safetensors filter=lfs" in attrs or "model.safetensors filter=lfs" in attrs


def test_snapshot_download_cache_layout(hub, lfs_file, tmp_path):
    cache = tmp_path / "c"
    path = Path(snapshot_download(lfs_file["repo"], endpoint=hub.url, token=hub.admin_token, cache_dir=str(cache)))
    repo_dir = cache / ("models--" + lfs_file["repo"].replace("/", "--"))
    assert path == repo_dir / "snapshots" / lfs_file["commit"]
    assert (repo_dir / "refs" / "main").read_text() == lfs_file["commit"]
    assert (path / "model.safetensors").is_symlink() and (path / "model.safetensors").read_bytes() == lfs_file["data"]
    assert sorted(p.name for p in (repo_dir / "blobs").iterdir()) == sorted(
        [lfs_file["oid"], git_sha1((path / ".gitattributes").read_bytes())])
    assert (repo_dir / "trees" / f"{lfs_file['commit']}.json").exists()  # the ≥1.22 tree cache


# --- hostile commits: every op kind -----------------------------------------------------------------------

BAD_PATHS = ["../x", "/abs", "a/../../b", "..", "a/..", ".git/HEAD", "a\x00b", "%2e%2e/x", "a/%2e%2e/b"]


@pytest.mark.parametrize("kind", ["file", "lfsFile", "deletedFile", "deletedFolder"])
@pytest.mark.parametrize("path", BAD_PATHS)
def test_hostile_paths_in_every_op(hub, repos, lfs_file, kind, path):
    pub = repos["public"]
    head = hub.api().model_info(pub).sha
    value = {"path": path}
    if kind == "file":
        value.update(content="aGk=", encoding="base64")
    elif kind == "lfsFile":
        value.update(algo="sha256", oid=lfs_file["oid"], size=len(lfs_file["data"]))
    lines = [{"key": "header", "value": {"summary": "evil"}},
             {"key": "file", "value": {"path": "innocent.txt", "content": "aGk=", "encoding": "base64"}},
             {"key": kind, "value": value}]
    r = req(hub, "POST", f"/api/models/{pub}/commit/main", token=hub.admin_token,
            content="".join(json.dumps(x) + "\n" for x in lines), headers={"content-type": "application/x-ndjson"})
    assert_error(r, 400)
    assert hub.api().model_info(pub).sha == head


def test_oversize_bodies(hub, repos):
    big = b'{"files": [' + b" " * (17 << 20) + b"]}"
    for route in ("/api/repos/create", f"/api/models/{repos['public']}/preupload/main",
                  f"/api/models/{repos['public']}/settings"):
        method = "PUT" if route.endswith("settings") else "POST"
        r = req(hub, method, route, token=hub.admin_token, content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413, route


# --- listing: sorts and counters -------------------------------------------------------------------------

def test_listing_sorts_and_dataset_cards(hub, tmp_path):
    api = hub.api()
    tag = unique("sorttag")
    names = [unique(f"admin/sort{i}") for i in range(3)]
    for name in names:
        api.create_repo(name)
        api.upload_file(path_or_fileobj=f"---\ntags:\n- {tag}\n---\n".encode(), path_in_repo="README.md", repo_id=name)
        api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=name)
    # Counted like the Hub counts (docs/hub.md): a model's config.json GET, not README or HEAD.
    for i, count in ((0, 0), (1, 2), (2, 1)):
        for j in range(count):
            hf_hub_download(names[i], "config.json", endpoint=hub.url, token=hub.admin_token, cache_dir=str(tmp_path / f"{i}{j}"))
    assert [api.model_info(n).downloads for n in names] == [0, 2, 1]
    by_downloads = [m.id for m in api.list_models(filter=tag, sort="downloads")]
    assert by_downloads == [names[1], names[2], names[0]]
    time.sleep(1.1)  # lastModified is the commit time: whole seconds, like git
    api.upload_file(path_or_fileobj=b"touch", path_in_repo="t.txt", repo_id=names[0])
    assert [m.id for m in api.list_models(filter=tag, sort="lastModified")][0] == names[0]
    # §3.2: `expand` on a listing returns the same fields as §3.1 repo info.
    fields = ["author", "cardData", "createdAt", "downloads", "gated", "lastModified", "likes", "private", "sha",
              "siblings", "tags"]
    r = req(hub, "GET", "/api/models", token=hub.admin_token, params=[("filter", tag)] + [("expand", f) for f in fields])
    assert r.status_code == 200 and len(r.json()) == 3
    for m in r.json():
        assert set(fields) <= set(m) <= set(fields) | {"_id", "id"}, sorted(m)
    with_cards = list(api.list_models(filter=tag, cardData=True))  # sends cardData=True
    assert all(m.card_data is not None and tag in m.card_data["tags"] for m in with_cards)
    ds = unique("admin/cardds")
    api.create_repo(ds, repo_type="dataset")
    card = f"---\nlicense: mit\nlanguage:\n- en\ntags:\n- {tag}\n---\n# Data\n"
    api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=ds, repo_type="dataset")
    info = api.dataset_info(ds, files_metadata=True)
    assert info.card_data["license"] == "mit" and tag in info.tags and "license:mit" in info.tags
    assert "language:en" in info.tags or "en" in info.tags  # §9(c): tags come from `language` (form unspecified)
    assert {s.rfilename for s in info.siblings} == {".gitattributes", "README.md"}
    readme = next(s for s in info.siblings if s.rfilename == "README.md")
    assert readme.size == len(card.encode()) and readme.blob_id == git_sha1(card.encode()) and readme.lfs is None
    assert info.sha == api.list_repo_refs(ds, repo_type="dataset").branches[0].target_commit
    assert [d.id for d in api.list_datasets(search=ds.split("/")[1])] == [ds]
    assert [d.id for d in api.list_datasets(author="admin", filter="license:mit", search=ds.split("/")[1])] == [ds]
    assert [d.id for d in api.list_datasets(filter="language:en", search=ds.split("/")[1])] == [ds]
    api.upload_file(path_or_fileobj=b"a\n1\n", path_in_repo="train.csv", repo_id=ds, repo_type="dataset")
    hf_hub_download(ds, "train.csv", repo_type="dataset", endpoint=hub.url, token=hub.admin_token, cache_dir=str(tmp_path / "d"))
    assert api.dataset_info(ds).downloads == 1  # a dataset's data files count


def test_move_redirects_every_route_and_delete_answers(hub, tmp_path):
    api = hub.api()
    old, new = unique("admin/old"), unique("admin/new")
    api.create_repo(old, repo_type="dataset")
    api.upload_file(path_or_fileobj=b"x,y\n", path_in_repo="d.csv", repo_id=old, repo_type="dataset")
    api.move_repo(old, new, repo_type="dataset")
    for route in ("/api/datasets/{}", "/datasets/{}/resolve/main/d.csv", "/api/datasets/{}/tree/main"):
        r = req(hub, "GET", route.format(old), token=hub.admin_token)
        assert r.status_code == 307 and r.headers["location"] == route.format(new), route
    assert api.dataset_info(old).id == new
    path = hf_hub_download(old, "d.csv", repo_type="dataset", endpoint=hub.url, token=hub.admin_token,
                           cache_dir=str(tmp_path / "c"))
    assert Path(path).read_bytes() == b"x,y\n"
    r = req(hub, "DELETE", "/api/repos/delete", token=hub.admin_token,
            json={"name": unique("ghost"), "organization": "admin", "type": "dataset"})
    assert_error(r, 404, "RepoNotFound")
    api.delete_repo(new, repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info(new)
    # A deleted repo's name is free again, and its old content is gone.
    api.create_repo(new, repo_type="dataset")
    assert api.list_repo_files(new, repo_type="dataset") == [".gitattributes"]
