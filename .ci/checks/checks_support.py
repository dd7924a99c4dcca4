"""HTTP steps shared by several deployment checks."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.support.servers import http_request


def register_and_login(port: int, prefix: str = "stack") -> tuple[dict, str]:
    """A new user through the API; returns (user, access token)."""
    suffix = uuid.uuid4().hex[:10]
    username, email = f"{prefix}_{suffix}", f"{prefix}_{suffix}@example.com"
    password = f"Stack-{uuid.uuid4().hex[:12]}-pw!"
    created = http_request(
        port,
        "POST",
        "/api/users/register/",
        {"username": username, "email": email, "password": password, "password_confirm": password},
    )
    assert created.status == 201, created
    user = created.json()
    assert user == {"id": user["id"], "username": username, "email": email}
    tokens = http_request(port, "POST", "/api/token/", {"username": username, "password": password})
    assert tokens.status == 200, tokens
    assert isinstance(tokens.json()["access"], str) and isinstance(tokens.json()["refresh"], str)
    return user, tokens.json()["access"]


def roundtrip(port: int, **headers: str) -> dict:
    """register -> token -> create a budget -> read it back; returns the budget."""
    user, access = register_and_login(port)
    anonymous = http_request(port, "GET", "/api/budgets/")
    assert anonymous.status == 401, anonymous
    assert "bearer" in anonymous.headers.get("www-authenticate", "").lower()

    sent = {"title": "Stack check budget", "date": "2026-01-15", "initial_amount": "100.00"}
    created = http_request(port, "POST", "/api/budgets/", sent, token=access, headers=headers)
    assert created.status == 201, created
    budget = created.json()
    assert budget["user"] == user["id"] and budget["title"] == sent["title"]
    assert (budget["initial_amount"], budget["balance"]) == ("100.00", "100.00")

    read = http_request(port, "GET", f"/api/budgets/{budget['id']}/", token=access)
    assert (read.status, read.json()) == (200, budget)
    return budget


class _AssetRefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img") and attrs.get("src"):
            self.refs.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.refs.append(attrs["href"])


def check_docs_assets(port: int) -> None:
    """/api/docs loads only local /static/ files, and each one answers 200."""
    page = http_request(port, "GET", "/api/docs", headers={"Accept": "text/html"})
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    parser = _AssetRefs()
    parser.feed(page.text)
    external = [r for r in parser.refs if urlsplit(r).scheme or r.startswith("//")]
    local = [r if r.startswith("/") else "/api/" + r for r in parser.refs if r not in external]
    assert external == []
    assert any(path.startswith("/static/") for path in local)
    for path in local:
        asset = http_request(port, "GET", path, headers={"Accept": "*/*"})
        assert asset.status == 200 and asset.raw, path
