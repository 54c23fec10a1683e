"""`jit serve` serves the built console at / with client-side routes falling back to index.html."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from jit.app import create_app
from jit.config import Settings


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root>console</div>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("not for you")
    return tmp_path


def _client(console_dir) -> TestClient:
    # No `with`: the lifespan (database, Redis) is not needed to serve files.
    return TestClient(create_app(Settings(mode="test", console_dir=str(console_dir))))


@pytest.mark.parametrize("path", ["/", "/tickets", "/tickets/0b6a", "/admin/rules/prod-change", "/console", "/audit",
                                  "/insights"])
def test_every_app_route_gets_index_html(dist, path):
    response = _client(dist).get(path)
    assert response.status_code == 200
    assert "console</div>" in response.text
    assert response.headers["cache-control"] == "no-cache"


def test_assets_are_served_and_cached_for_good(dist):
    response = _client(dist).get("/assets/index-abc.js")
    assert response.status_code == 200 and response.text == "console.log(1)"
    assert "immutable" in response.headers["cache-control"]


def test_a_missing_asset_is_404_not_the_app(dist):
    assert _client(dist).get("/assets/index-old.js").status_code == 404


def test_nothing_outside_the_build_folder_is_served(dist):
    client = _client(dist)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        response = client.get(path)
        assert "not for you" not in response.text


def test_health_and_graphql_are_not_swallowed_by_the_console(dist):
    client = _client(dist)
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.post("/graphql", json={"query": "{ me { user { id } } }"})
    assert response.status_code == 401
    # The audit export is the server's, not the app's: it asks who is calling.
    assert client.get("/audit/export?format=csv").status_code == 401
    production = TestClient(create_app(Settings(mode="production", console_dir=str(dist))))
    assert production.get("/graphql").status_code == 405


def test_an_unbuilt_console_says_how_to_build_it(tmp_path):
    response = _client(tmp_path / "missing").get("/")
    assert response.status_code == 503
    assert "make frontend" in response.text
