"""huggingface_hub 2.4 (the newest on PyPI) against mlhub serve: repos, uploads (regular, LFS,
and the Xet fallback), commits with deletions, downloads, the cache layout it builds, tree,
paths-info, refs, branches, tags, commits, settings, move and delete."""
import hashlib
import os
from pathlib import Path

import httpx
import pytest
from huggingface_hub import (CommitOperationAdd, CommitOperationCopy, CommitOperationDelete, hf_hub_download,
                             snapshot_download)
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

from conftest import unique, write_files

BIG = os.urandom(11 * 1000 * 1000 + 7)  # over the 10 MB LFS threshold


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_create_repo_kinds_and_conflicts(hub):
    api = hub.api()
    name = unique("admin/model")
    url = api.create_repo(name)
    assert url.repo_id == name and str(url).startswith(hub.url)
    assert api.create_repo(name, exist_ok=True).repo_id == name
    with pytest.raises(HfHubHTTPError) as e:
        api.create_repo(name)
    assert e.value.response.status_code == 409
    ds = unique("admin/data")
    api.create_repo(ds, repo_type="dataset")
    assert api.dataset_info(ds).id == ds
    private = unique("admin/private")
    api.create_repo(private, private=True)
    assert api.model_info(private).private is True
    # Every new repo starts with the Hub's initial commit and .gitattributes.
    commits = api.list_repo_commits(name)
    assert [c.title for c in commits] == ["initial commit"]
    assert "*.safetensors filter=lfs" in Path(hf_hub_download(name, ".gitattributes", endpoint=hub.url, token=hub.admin_token,
                                                              cache_dir=str(hub.data.parent / "c0"))).read_text()


def test_upload_folder_with_lfs_file_then_download(lfs_hub, tmp_path):
    repo = unique("admin/lfs")
    folder = write_files(tmp_path / "up", {"config.json": '{"model_type": "bert"}', "weights/big.bin": BIG,
                                           "README.md": "---\nlicense: mit\ntags:\n- mlhub-test\n---\n# Card\n"})
    cache = tmp_path / "cache"
    out = lfs_hub.python(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("{repo}")
        info = api.upload_folder(repo_id="{repo}", folder_path="{folder}", commit_message="weights")
        print(info.oid)
    """, env={"HF_HUB_DISABLE_XET": "1"})
    commit = out.strip().splitlines()[-1]
    api = lfs_hub.api()
    info = api.model_info(repo, files_metadata=True)
    assert info.sha == commit
    big = next(s for s in info.siblings if s.rfilename == "weights/big.bin")
    assert big.lfs is not None and big.lfs.sha256 == sha256(BIG) and big.size == len(BIG)  # the LFS path
    assert big.blob_id == git_sha1(f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256(BIG)}\nsize {len(BIG)}\n".encode())
    assert "license:mit" in info.tags and "mlhub-test" in info.tags and "bert" in info.tags
    assert info.card_data["license"] == "mit"
    # The LFS object lives once in the blob store, by sha256.
    assert (lfs_hub.data / "blobs" / "objects" / sha256(BIG)[:2] / sha256(BIG)[2:4] / sha256(BIG)).stat().st_size == len(BIG)
    path = hf_hub_download(repo, "weights/big.bin", endpoint=lfs_hub.url, token=lfs_hub.admin_token, cache_dir=str(cache))
    assert Path(path).read_bytes() == BIG
    # The cache layout huggingface_hub builds from our headers: blobs named by sha256 (LFS) and
    # git sha1 (regular), snapshots/<commit>/ symlinks, refs/main.
    repo_dir = cache / ("models--" + repo.replace("/", "--"))
    assert (repo_dir / "blobs" / sha256(BIG)).exists()
    assert (repo_dir / "refs" / "main").read_text() == commit
    assert Path(path) == repo_dir / "snapshots" / commit / "weights" / "big.bin"
    cfg = hf_hub_download(repo, "config.json", endpoint=lfs_hub.url, token=lfs_hub.admin_token, cache_dir=str(cache))
    assert (repo_dir / "blobs" / git_sha1(b'{"model_type": "bert"}')).exists()
    assert Path(cfg).read_text() == '{"model_type": "bert"}'


def test_upload_with_hf_xet_installed_uses_the_regular_fallback(hub, tmp_path):
    repo = unique("admin/xet")
    folder = write_files(tmp_path / "up", {"big.bin": BIG, "small.txt": "hi"})
    hub.python(f"""
        import hf_xet  # installed: huggingface_hub would send "lfs" files through Xet
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("{repo}")
        api.upload_folder(repo_id="{repo}", folder_path="{folder}")
    """)
    info = hub.api().model_info(repo, files_metadata=True)
    big = next(s for s in info.siblings if s.rfilename == "big.bin")
    assert big.lfs is None and big.size == len(BIG)  # stored as a regular git blob
    path = hf_hub_download(repo, "big.bin", endpoint=hub.url, token=hub.admin_token, cache_dir=str(tmp_path / "c"))
    assert Path(path).read_bytes() == BIG


def test_upload_file_create_commit_with_deletions_and_copies(hub, tmp_path):
    api = hub.api()
    repo = unique("admin/ops")
    api.create_repo(repo)
    api.upload_file(path_or_fileobj=b"one", path_in_repo="a/one.txt", repo_id=repo)
    api.upload_file(path_or_fileobj=b"two", path_in_repo="a/b/two.txt", repo_id=repo)
    api.upload_file(path_or_fileobj=b"keep", path_in_repo="keep.txt", repo_id=repo)
    info = api.create_commit(repo, operations=[
        CommitOperationDelete("keep.txt"),
        CommitOperationDelete("a/"),  # a folder
        CommitOperationAdd("new.txt", b"new"),
    ], commit_message="delete and add")
    assert sorted(api.list_repo_files(repo)) == [".gitattributes", "new.txt"]
    api.create_commit(repo, operations=[CommitOperationCopy("new.txt", "copy/new.txt")], commit_message="copy")
    assert hub.api().list_repo_files(repo).count("copy/new.txt") == 1
    with pytest.raises(EntryNotFoundError):
        api.create_commit(repo, operations=[CommitOperationDelete("missing.txt")], commit_message="x")
    # A stale parent commit is refused with 412 and nothing changes.
    with pytest.raises(HfHubHTTPError) as e:
        api.create_commit(repo, operations=[CommitOperationAdd("x.txt", b"x")], commit_message="stale",
                          parent_commit=info.oid)
    assert e.value.response.status_code == 412
    assert "x.txt" not in api.list_repo_files(repo)


def test_snapshot_download_with_allow_patterns(hub, tmp_path):
    api = hub.api()
    repo = unique("admin/snap")
    api.create_repo(repo)
    folder = write_files(tmp_path / "up", {"config.json": "{}", "tokenizer.json": "{}", "data/x.csv": "a\n1\n",
                                           "data/y.csv": "a\n2\n", "notes.md": "n"})
    api.upload_folder(repo_id=repo, folder_path=str(folder))
    path = snapshot_download(repo, allow_patterns=["*.json", "data/x*"], endpoint=hub.url, token=hub.admin_token,
                             cache_dir=str(tmp_path / "cache"))
    got = sorted(str(p.relative_to(path)) for p in Path(path).rglob("*") if p.is_file())
    assert got == ["config.json", "data/x.csv", "tokenizer.json"]
    assert (Path(path) / "data" / "x.csv").read_text() == "a\n1\n"


def test_tree_paths_info_and_expand(hub, tmp_path):
    api = hub.api()
    repo = unique("admin/tree")
    api.create_repo(repo)
    api.upload_folder(repo_id=repo, folder_path=str(write_files(tmp_path / "up", {"a/b/c.txt": "c", "a/d.txt": "d", "e.txt": "e"})))
    top = {f.path for f in api.list_repo_tree(repo)}
    assert top == {".gitattributes", "a", "e.txt"}
    deep = {f.path for f in api.list_repo_tree(repo, recursive=True)}
    assert {"a", "a/b", "a/b/c.txt", "a/d.txt", "e.txt"} <= deep
    sub = [f.path for f in api.list_repo_tree(repo, path_in_repo="a/b")]
    assert sub == ["a/b/c.txt"]
    expanded = list(api.list_repo_tree(repo, path_in_repo="a", expand=True))
    assert all(f.last_commit is not None and f.last_commit.title == "Upload folder using huggingface_hub" for f in expanded)
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree(repo, path_in_repo="nope"))
    infos = api.get_paths_info(repo, ["e.txt", "a", "missing.txt"], expand=True)
    assert sorted((i.path, type(i).__name__) for i in infos) == [("a", "RepoFolder"), ("e.txt", "RepoFile")]
    e = next(i for i in infos if i.path == "e.txt")
    assert e.blob_id == git_sha1(b"e") and e.size == 1 and e.last_commit is not None


def test_tree_pagination_follows_link_headers(hub, tmp_path):
    api = hub.api()
    repo = unique("admin/many")
    api.create_repo(repo)
    files = {f"f/{i:04d}.txt": str(i) for i in range(1100)}
    api.upload_folder(repo_id=repo, folder_path=str(write_files(tmp_path / "up", files)))
    listed = [f.path for f in api.list_repo_tree(repo, path_in_repo="f")]
    assert listed == sorted(files)  # 1100 entries: two pages of at most 1000
    r = httpx.get(f"{hub.url}/api/models/{repo}/tree/main/f", params={"limit": 10},
                  headers={"authorization": f"Bearer {hub.admin_token}"})
    assert len(r.json()) == 10
    link = r.headers["link"]
    assert link.startswith(f"<{hub.url}/api/models/{repo}/tree/main/f?") and link.endswith('>; rel="next"')


def test_refs_branches_tags_commits(hub):
    api = hub.api()
    repo = unique("admin/refs")
    api.create_repo(repo)
    first = api.upload_file(path_or_fileobj=b"1", path_in_repo="v.txt", repo_id=repo, commit_message="v1").oid
    api.create_branch(repo, branch="dev")
    api.create_branch(repo, branch="dev", exist_ok=True)
    with pytest.raises(HfHubHTTPError):
        api.create_branch(repo, branch="dev")
    api.upload_file(path_or_fileobj=b"2", path_in_repo="v.txt", repo_id=repo, revision="dev", commit_message="v2 on dev")
    api.create_tag(repo, tag="v1.0", revision=first, tag_message="first release")
    api.create_tag(repo, tag="light", revision="dev")
    refs = api.list_repo_refs(repo)
    branches = {b.name: b.target_commit for b in refs.branches}
    tags = {t.name: t.target_commit for t in refs.tags}
    assert set(branches) == {"main", "dev"} and branches["main"] == first
    assert tags == {"v1.0": first, "light": branches["dev"]}
    assert refs.converts == []
    titles = [c.title for c in api.list_repo_commits(repo, revision="dev")]
    assert titles == ["v2 on dev", "v1", "initial commit"]
    assert api.list_repo_commits(repo, revision="v1.0")[0].commit_id == first
    assert Path(hf_hub_download(repo, "v.txt", revision="v1.0", endpoint=hub.url, token=hub.admin_token,
                                cache_dir=str(hub.data.parent / "c1"))).read_text() == "1"
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo, revision="no-such-branch")
    api.delete_tag(repo, tag="light")
    api.delete_branch(repo, branch="dev")
    refs = api.list_repo_refs(repo)
    assert [b.name for b in refs.branches] == ["main"] and [t.name for t in refs.tags] == ["v1.0"]


def test_settings_move_and_delete(hub):
    api = hub.api()
    repo = unique("admin/life")
    api.create_repo(repo)
    api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=repo)
    api.update_repo_settings(repo, private=True, gated="auto")
    info = api.model_info(repo)
    assert info.private is True and info.gated == "auto"
    api.update_repo_settings(repo, private=False, gated=False)
    assert api.model_info(repo).private is False
    moved = unique("admin/moved")
    api.move_repo(from_id=repo, to_id=moved)
    assert api.model_info(moved).id == moved
    # The old id redirects (a relative 307), so old links and caches keep working.
    r = httpx.get(f"{hub.url}/api/models/{repo}", headers={"authorization": f"Bearer {hub.admin_token}"})
    assert r.status_code == 307 and r.headers["location"] == f"/api/models/{moved}"
    assert api.model_info(repo).id == moved
    path = hf_hub_download(repo, "config.json", endpoint=hub.url, token=hub.admin_token, cache_dir=str(hub.data.parent / "c2"))
    assert Path(path).read_text() == "{}"
    api.delete_repo(moved)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(moved)
    api.delete_repo(moved, missing_ok=True)


def test_whoami_orgs_and_namespaces(hub):
    token = hub.user("carol")
    hub.cli("org", "create", "acme-org", "--member", "carol:write")
    api = hub.api(token)
    me = api.whoami()
    assert me["name"] == "carol" and [o["name"] for o in me["orgs"]] == ["acme-org"]
    assert me["auth"]["accessToken"]["role"] == "write"
    repo = api.create_repo("acme-org/shared").repo_id
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo)
    # Someone outside the org can read the public repo but not write to it or its namespace.
    outsider = hub.api(hub.user("dave"))
    assert outsider.model_info(repo).id == repo
    with pytest.raises(HfHubHTTPError) as e:
        outsider.upload_file(path_or_fileobj=b"y", path_in_repo="y.txt", repo_id=repo)
    assert e.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as e:
        outsider.create_repo("acme-org/other")
    assert e.value.response.status_code == 403
    # A read token cannot write even to its own namespace.
    reader = hub.api(hub.user("carol", role="read"))
    with pytest.raises(HfHubHTTPError) as e:
        reader.upload_file(path_or_fileobj=b"y", path_in_repo="y.txt", repo_id=repo)
    assert e.value.response.status_code == 403


def test_download_counter(hub, tmp_path):
    api = hub.api()
    repo = unique("admin/counted")
    api.create_repo(repo)
    api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id=repo)
    before = api.model_info(repo).downloads
    for i in range(2):
        hf_hub_download(repo, "config.json", endpoint=hub.url, token=hub.admin_token, cache_dir=str(tmp_path / f"c{i}"))
    assert api.model_info(repo).downloads == before + 2
