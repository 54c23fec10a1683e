"""Drives a browser's part of an OIDC sign-in against the real provider in oidc_provider/."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from jit.demo.embedded import free_port

HERE = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "jit-console"
JIT_BASE = "http://jit.test"


class Provider:
    def __init__(self, process: subprocess.Popen, issuer: str) -> None:
        self.process = process
        self.issuer = issuer


def start_provider(redirect_uri: str = f"{JIT_BASE}/auth/callback") -> Provider:
    node = shutil.which("node")
    if node is None:
        # Never a skip: `make test` already needs Node.js for the console, and sign-in is security.
        pytest.fail("node is not installed: the OIDC sign-in tests need it to run the oidc-provider package "
                    "(install Node.js 20+ with npm)")
    if not (HERE / "node_modules" / "oidc-provider").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install tests/security/oidc_provider (npm ci)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([node, str(HERE / "server.mjs"), str(port), CLIENT_ID, redirect_uri],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=1)
            return Provider(process, issuer)
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("oidc-provider did not start") from None
            time.sleep(0.2)


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r"<input([^>]*)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


async def sign_in_at_provider(browser: httpx.AsyncClient, authorize_url: str, login: str) -> str:
    """Follows the provider's login and consent pages; returns the URL it sends back to JIT."""
    url = authorize_url
    for _ in range(20):
        response = await browser.get(url) if not isinstance(url, tuple) else await browser.post(url[0], data=url[1])
        if response.is_redirect:
            location = str(response.headers["location"])
            location = location if location.startswith("http") else str(response.url.join(location))
            if location.startswith(JIT_BASE):
                return location
            url = location
            continue
        match = _FORM.search(response.text)
        assert match, response.text[:500]
        action, body = html.unescape(match.group(1)), match.group(2)
        data = {}
        for attributes in _INPUT.findall(body):
            attrs = dict(_ATTR.findall(attributes))
            if "name" in attrs:
                data[attrs["name"]] = html.unescape(attrs.get("value", ""))
        data.update({"login": login, "password": "any"} if "login" in data else {})
        url = (str(response.url.join(action)), data)
    raise AssertionError("the provider never sent the browser back")
