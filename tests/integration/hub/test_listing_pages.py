"""Listing pagination with the server's own page size (hub-api.md §3.2: "Python iterates all
pages if no limit is given, so cap the page size (HF: 1000) and always paginate"). The page
size is not configurable, so this module makes more than one page of repos (1,005, ~15 s)."""
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from huggingface_hub import HfApi

N = 1005


@pytest.fixture(scope="module")
def many(hub):
    names = [f"p{i:04d}" for i in range(N)]

    def create(chunk):
        with httpx.Client(headers={"authorization": f"Bearer {hub.admin_token}"}, timeout=60) as c:
            for name in chunk:
                r = c.post(f"{hub.url}/api/repos/create", json={"name": name, "organization": None})
                assert r.status_code == 200, r.text

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(create, [names[0::2], names[1::2]]))
    return {f"admin/{n}" for n in names}


def test_unbounded_listing_is_capped_and_paginated(hub, many):
    r = httpx.get(f"{hub.url}/api/models", headers={"authorization": f"Bearer {hub.admin_token}"}, timeout=60)
    assert r.status_code == 200
    assert 0 < len(r.json()) <= 1000, len(r.json())
    assert r.headers.get("link", "").startswith(f"<{hub.url}/api/models?") and r.headers["link"].endswith('>; rel="next"')


def test_python_follows_every_page(hub, many):
    api = HfApi(endpoint=hub.url, token=hub.admin_token)
    ids = [m.id for m in api.list_models()]
    assert len(ids) == len(set(ids))  # no repo twice across pages
    assert set(ids) == many
    assert len(list(api.list_models(limit=1003))) == 1003
    # Sorted listings keep their order across the page boundary.
    by_created = list(api.list_models(sort="createdAt"))
    assert len(by_created) == N and {m.id for m in by_created} == many
    dates = [m.created_at for m in by_created]
    assert all(a >= b for a, b in zip(dates, dates[1:]))  # descending (§3.2) across pages
    anon = [m.id for m in HfApi(endpoint=hub.url, token=False).list_models(search="p10")]
    assert sorted(anon) == sorted(i for i in many if "p10" in i)
