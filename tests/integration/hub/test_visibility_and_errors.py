"""The visibility matrix of hub-api.md §5.3 (raw HTTP and huggingface_hub's exception classes),
the resolve headers of §2.2, Range, listing and search, and bad input: every error is a JSON
answer with the right status and X-Error-Code, and nothing is half-written."""
import hashlib
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError,
                                    RevisionNotFoundError)

from conftest import unique


@pytest.fixture(scope="module")
def repos(hub):
    api = hub.api()
    public, private, gated = unique("admin/pub"), unique("admin/priv"), unique("admin/gated")
    for name, private_flag in ((public, False), (private, True), (gated, False)):
        api.create_repo(name, private=private_flag)
        api.upload_file(path_or_fileobj=b'{"x": 1}', path_in_repo="config.json", repo_id=name)
    api.update_repo_settings(gated, gated="manual")
    return {"public": public, "private": private, "gated": gated}


def get(hub, path, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.request(kw.pop("method", "GET"), hub.url + path, headers=headers, **kw)


@pytest.mark.parametrize("route", ["/api/models/{}", "/{}/resolve/main/config.json", "/api/models/{}/tree/main"])
def test_missing_and_private_repos_look_the_same(hub, repos, route):
    other = hub.user("eve")
    for repo in (unique("admin/missing"), repos["private"]):
        anon = get(hub, route.format(repo))
        assert anon.status_code == 401 and anon.headers["x-error-code"] == "RepoNotFound"
        assert anon.headers["content-type"].startswith("application/json") and "error" in anon.json()
        authed = get(hub, route.format(repo), token=other)
        assert authed.status_code == 404 and authed.headers["x-error-code"] == "RepoNotFound"
    assert get(hub, route.format(repos["private"]), token=hub.admin_token).status_code == 200


def test_bad_token_is_told_apart_from_a_missing_repo(hub, repos):
    r = get(hub, f"/api/models/{repos['public']}", token="hf_not_a_token")
    assert r.status_code == 401
    assert r.headers["x-error-message"] == "Invalid credentials in Authorization header"
    assert "x-error-code" not in r.headers
    with pytest.raises(HfHubHTTPError) as e:
        HfApi(endpoint=hub.url, token="hf_not_a_token").model_info(repos["public"])
    assert not isinstance(e.value, RepositoryNotFoundError)


def test_client_exceptions(hub, repos):
    anon = HfApi(endpoint=hub.url, token=False)
    with pytest.raises(RepositoryNotFoundError):
        anon.model_info(repos["private"])
    with pytest.raises(RepositoryNotFoundError):
        hub.api(hub.user("frank")).model_info(repos["private"])
    with pytest.raises(RevisionNotFoundError):
        hub.api().model_info(repos["public"], revision="nope")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repos["public"], "nope.json", endpoint=hub.url, token=hub.admin_token,
                        cache_dir=str(hub.data.parent / "cv"))
    # Gated: metadata stays readable, content needs approval (manual: only the owner's side).
    assert anon.model_info(repos["gated"]).gated == "manual"
    with pytest.raises(GatedRepoError):
        hf_hub_download(repos["gated"], "config.json", endpoint=hub.url, token=False, cache_dir=str(hub.data.parent / "cg"))
    with pytest.raises(GatedRepoError):
        hf_hub_download(repos["gated"], "config.json", endpoint=hub.url, token=hub.user("gina"),
                        cache_dir=str(hub.data.parent / "cg2"))
    r = get(hub, f"/{repos['gated']}/resolve/main/config.json")
    assert r.status_code == 401 and r.headers["x-error-code"] == "GatedRepo"
    assert get(hub, f"/{repos['gated']}/resolve/main/config.json", token=hub.admin_token).status_code == 200


def test_resolve_headers_and_ranges(hub, repos):
    body = b'{"x": 1}'
    head = get(hub, f"/{repos['public']}/resolve/main/config.json", method="HEAD", headers={"accept-encoding": "identity"})
    assert head.status_code == 200
    sha1 = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
    commit = hub.api().model_info(repos["public"]).sha
    assert head.headers["x-repo-commit"] == commit
    assert head.headers["etag"] == f'"{sha1}"' and head.headers["x-linked-etag"] == f'"{sha1}"'
    assert head.headers["x-linked-size"] == str(len(body)) and head.headers["content-length"] == str(len(body))
    assert head.headers["accept-ranges"] == "bytes"
    part = get(hub, f"/{repos['public']}/resolve/main/config.json", headers={"range": "bytes=2-4"})
    assert part.status_code == 206 and part.content == body[2:5]
    assert part.headers["content-range"] == f"bytes 2-4/{len(body)}"
    tail = get(hub, f"/{repos['public']}/resolve/{commit}/config.json", headers={"range": "bytes=-3"})
    assert tail.status_code == 206 and tail.content == body[-3:]
    bad = get(hub, f"/{repos['public']}/resolve/main/config.json", headers={"range": "bytes=100-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(body)}"
    missing = get(hub, f"/{repos['public']}/resolve/main/nope.txt")
    assert missing.status_code == 404 and missing.headers["x-error-code"] == "EntryNotFound"
    assert missing.headers["x-repo-commit"] == commit
    raw = get(hub, f"/{repos['public']}/raw/{commit[:7]}/config.json")
    assert raw.status_code == 200 and raw.content == body


def test_listing_search_filter_sort_and_pages(hub):
    api = hub.api()
    tag = unique("tag")
    names = [unique(f"admin/list{i}") for i in range(5)]
    for i, name in enumerate(names):
        api.create_repo(name)
        card = f"---\nlicense: {'mit' if i % 2 == 0 else 'apache-2.0'}\ntags:\n- {tag}\n---\n"
        api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=name)
    ds = unique("admin/listds")
    api.create_repo(ds, repo_type="dataset")
    api.upload_file(path_or_fileobj=f"---\ntags:\n- {tag}\n---\n".encode(), path_in_repo="README.md", repo_id=ds,
                    repo_type="dataset")
    found = {m.id for m in api.list_models(filter=tag)}
    assert found == set(names)
    assert {m.id for m in api.list_models(filter=[tag, "license:mit"])} == {names[0], names[2], names[4]}
    assert {m.id for m in api.list_models(search=names[3].split("/")[1])} == {names[3]}
    assert {m.id for m in api.list_models(author="admin", filter=tag)} == set(names)
    assert [d.id for d in api.list_datasets(filter=tag)] == [ds]
    assert len(list(api.list_models(filter=tag, limit=2))) == 2
    newest_first = [m.id for m in api.list_models(filter=tag, sort="createdAt")]
    assert newest_first == list(reversed(names))
    full = next(iter(api.list_models(search=names[0].split("/")[1], full=True)))
    assert full.sha and {s.rfilename for s in full.siblings} == {".gitattributes", "README.md"}
    # Pagination: a page size of 2 gives an absolute Link to the next page, carrying every parameter.
    r = get(hub, "/api/models", params={"filter": tag, "limit": 2, "sort": "createdAt"}, token=hub.admin_token)
    assert len(r.json()) == 2
    link = r.headers["link"]
    assert link.startswith(f"<{hub.url}/api/models?") and f"filter={tag}" in link and link.endswith('>; rel="next"')
    seen = [m["id"] for m in r.json()]
    while "link" in r.headers:
        r = httpx.get(r.headers["link"][1:r.headers["link"].index(">")], headers={"authorization": f"Bearer {hub.admin_token}"})
        seen += [m["id"] for m in r.json()]
    assert seen == newest_first
    # Private repos are listed only for those who can see them.
    secret = unique("admin/secret")
    api.create_repo(secret, private=True)
    api.upload_file(path_or_fileobj=f"---\ntags:\n- {tag}\n---\n".encode(), path_in_repo="README.md", repo_id=secret)
    assert secret in {m.id for m in api.list_models(filter=tag)}
    assert secret not in {m.id for m in HfApi(endpoint=hub.url, token=False).list_models(filter=tag)}


NDJSON = {"content-type": "application/x-ndjson"}


def commit_raw(hub, repo, lines, token=None):
    import json
    body = "\n".join(json.dumps(line) for line in lines) + "\n"
    return get(hub, f"/api/models/{repo}/commit/main", token=token or hub.admin_token, method="POST", content=body,
               headers=dict(NDJSON))


# Percent-encoded dot segments (%2e%2e) and every op kind are in test_contract.py.
@pytest.mark.parametrize("path", ["../x", "/abs", "a/../../b", "a/./b", ".git/config", "a//b", "a\x00b", "a\\b"])
def test_path_traversal_is_refused_and_nothing_is_committed(hub, repos, path):
    head = hub.api().model_info(repos["public"]).sha
    lines = [{"key": "header", "value": {"summary": "evil"}},
             {"key": "file", "value": {"path": "ok.txt", "content": "aGk=", "encoding": "base64"}},
             {"key": "file", "value": {"path": path, "content": "aGk=", "encoding": "base64"}}]
    r = commit_raw(hub, repos["public"], lines)
    assert r.status_code == 400 and "error" in r.json()
    assert hub.api().model_info(repos["public"]).sha == head


def test_malformed_requests(hub, repos):
    repo = repos["public"]
    for body in ["not json\n", '{"key":"file","value":{"path":"a","content":"aGk="}}\n',
                 '{"key":"header","value":{"summary":"x"}}\n{"key":"mystery","value":{}}\n',
                 '{"key":"header","value":"nope"}\n', '[1,2]\n']:
        r = get(hub, f"/api/models/{repo}/commit/main", token=hub.admin_token, method="POST", content=body, headers=dict(NDJSON))
        assert r.status_code == 400, body
        assert r.headers["content-type"].startswith("application/json")
    r = commit_raw(hub, repo, [{"key": "header", "value": {"summary": "x"}},
                               {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": "0" * 64, "size": 3}}])
    assert r.status_code == 422  # an LFS object that was never uploaded
    r = get(hub, f"/api/models/{repo}/commit/nope", token=hub.admin_token, method="POST",
            content='{"key":"header","value":{"summary":"x"}}\n', headers=dict(NDJSON))
    assert r.status_code == 404 and r.headers["x-error-code"] == "RevisionNotFound"
    r = get(hub, "/api/repos/create", token=hub.admin_token, method="POST", content=b"{" + b" " * (17 << 20) + b"}")
    assert r.status_code == 413
    r = get(hub, "/api/repos/create", token=hub.admin_token, method="POST", json={"name": "bad name!"})
    assert r.status_code == 400
    r = get(hub, "/api/repos/create", token=hub.admin_token, method="POST", json=[1, 2])
    assert r.status_code == 400
    r = get(hub, f"/api/models/{repo}/tree/nope", token=hub.admin_token)
    assert r.status_code == 404 and r.headers["x-error-code"] == "RevisionNotFound"
    r = get(hub, "/api/validate-yaml", method="POST", json={"content": "---\na: [1\n---\n", "repoType": "model"})
    assert r.status_code == 400 and r.json()["errors"][0]["message"]
    r = get(hub, "/api/validate-yaml", method="POST", json={"content": "---\nlicense: mit\n---\n", "repoType": "model"})
    assert r.status_code == 200 and r.json() == {"errors": [], "warnings": []}


def test_lfs_upload_urls_are_signed_and_verified(hub, repos):
    import json
    data = b"payload" * 1000
    oid = hashlib.sha256(data).hexdigest()
    r = get(hub, f"/{repos['public']}.git/info/lfs/objects/batch", token=hub.admin_token, method="POST",
            content=json.dumps({"operation": "upload", "transfers": ["basic", "xet"], "hash_algo": "sha256",
                                "objects": [{"oid": oid, "size": len(data)}], "ref": {"name": "main"}}),
            headers={"content-type": "application/vnd.git-lfs+json", "accept": "application/vnd.git-lfs+json"})
    assert r.status_code == 200 and r.json()["transfer"] == "basic"
    href = r.json()["objects"][0]["actions"]["upload"]["href"]
    assert httpx.put(href.replace("sig=", "sig=0"), content=data).status_code == 403  # tampered signature
    assert httpx.put(href, content=data[:-1] + b"X").status_code == 400  # wrong content
    assert not any((hub.data / "blobs" / "tmp").iterdir())
    assert httpx.put(href, content=data).status_code == 200  # no Authorization header needed
    assert (hub.data / "blobs" / "objects" / oid[:2] / oid[2:4] / oid).read_bytes() == data
    r = commit_raw(hub, repos["public"], [{"key": "header", "value": {"summary": "lfs"}},
                                          {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": oid,
                                                                       "size": len(data)}}])
    assert r.status_code == 200
    got = hf_hub_download(repos["public"], "w.bin", endpoint=hub.url, token=hub.admin_token, cache_dir=str(hub.data.parent / "cl"))
    assert Path(got).read_bytes() == data
    attributes = hf_hub_download(repos["public"], ".gitattributes", endpoint=hub.url, token=hub.admin_token,
                                 cache_dir=str(hub.data.parent / "cl"))
    assert "*.bin filter=lfs" in Path(attributes).read_text()
    # After data loss (the object file gone), the pointer is never served as if it were the file.
    (hub.data / "blobs" / "objects" / oid[:2] / oid[2:4] / oid).unlink()
    r = get(hub, f"/{repos['public']}/resolve/main/w.bin", token=hub.admin_token)
    assert r.status_code == 500 and b"git-lfs" not in r.content and "missing" in r.json()["error"]
