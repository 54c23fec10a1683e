"""OpenID Connect sign-in: authorization code flow with PKCE, through authlib.

The login state (state, nonce, PKCE verifier) is kept in Redis for ten minutes, so any
replica can finish a sign-in another started; a cookie binds it to the browser that
started it.
"""

from __future__ import annotations

import json
import secrets
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis

from jit.directory.queries import live

with warnings.catch_warnings():
    # authlib announces a future move to another HTTP package; httpx is what we pin.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from jit.clock import Clock
from jit.config import Settings
from jit.directory.models import User
from jit.errors import NotAllowed, Unauthenticated

STATE_TTL = 600


@dataclass
class SignIn:
    user: User
    groups: list[str] | None
    return_to: str


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id):
            raise RuntimeError("OIDC is not configured (JIT_OIDC_ISSUER, JIT_OIDC_CLIENT_ID)")
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.redirect_uri = f"{settings.base_url}/auth/callback"
        self._metadata: dict[str, Any] | None = None
        self._jwks: Any = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
                metadata = response.json()
            if metadata.get("issuer", "").rstrip("/") != self.issuer:
                raise RuntimeError("the OIDC discovery document names another issuer")
            self._metadata = metadata
        return self._metadata

    async def _keys(self, refresh: bool = False) -> Any:
        if self._jwks is None or refresh:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.get((await self.metadata())["jwks_uri"])
                response.raise_for_status()
                self._jwks = KeySet.import_key_set(response.json())
        return self._jwks

    def _client(self) -> AsyncOAuth2Client:
        s = self.settings
        return AsyncOAuth2Client(
            client_id=s.oidc_client_id, client_secret=s.oidc_client_secret, scope=s.oidc_scopes,
            redirect_uri=self.redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if s.oidc_client_secret else "none",
            timeout=10,
        )

    async def start(self, redis: Redis, return_to: str) -> tuple[str, str]:
        """The provider URL to send the browser to, and the state that binds it."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        await redis.set(f"jit:oidc:{state}", json.dumps({"nonce": nonce, "verifier": verifier, "return_to": return_to}),
                        ex=STATE_TTL)
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                (await self.metadata())["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier,
            )
        return url, state

    async def finish(self, redis: Redis, clock: Clock, state: str, code: str) -> SignIn:
        raw = await redis.getdel(f"jit:oidc:{state}")
        if raw is None:
            raise Unauthenticated("this sign-in expired or was already used; start again", field="state")
        saved = json.loads(raw)
        metadata = await self.metadata()
        async with self._client() as client:
            try:
                token = await client.fetch_token(metadata["token_endpoint"], code=code, code_verifier=saved["verifier"],
                                                 grant_type="authorization_code")
            except Exception as exc:  # noqa: BLE001 - the provider's refusal, shown without its details
                raise Unauthenticated("the identity provider refused the sign-in", field="code") from exc
            claims = await self._verify(token.get("id_token"), saved["nonce"], clock)
            if self.settings.oidc_user_claim not in claims and metadata.get("userinfo_endpoint"):
                # Providers may keep profile claims out of the ID token and serve them here.
                response = await client.get(metadata["userinfo_endpoint"])
                if response.status_code == 200:
                    info = response.json()
                    if info.get("sub") == claims["sub"]:
                        claims = {**info, **claims}
        user = await self._match(claims)
        groups = None
        if self.settings.oidc_groups_from_token:
            raw_groups = claims.get(self.settings.oidc_groups_claim) or []
            groups = [str(g) for g in raw_groups] if isinstance(raw_groups, list) else []
        return SignIn(user=user, groups=groups, return_to=saved["return_to"])

    async def _verify(self, id_token: str | None, nonce: str, clock: Clock) -> dict[str, Any]:
        if not id_token:
            raise Unauthenticated("the identity provider sent no ID token", field="id_token")
        registry = jwt.JWTClaimsRegistry(
            now=int(clock.now().timestamp()), leeway=60,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True}, sub={"essential": True},
        )
        for refresh in (False, True):  # a key we have not seen may mean the provider rotated
            try:
                token = jwt.decode(id_token, await self._keys(refresh), algorithms=["RS256", "ES256", "PS256", "EdDSA"])
                registry.validate(token.claims)
                return dict(token.claims)
            except (JoseError, ValueError) as exc:
                if refresh:
                    raise Unauthenticated("the ID token is not valid", field="id_token") from exc
        raise Unauthenticated("the ID token is not valid", field="id_token")  # pragma: no cover

    async def _match(self, claims: dict[str, Any]) -> User:
        claim = self.settings.oidc_user_claim
        value = claims.get(claim)
        if not isinstance(value, str) or not value:
            raise NotAllowed(f"the ID token has no {claim} claim", field=claim)
        if claim == "email":
            if claims.get("email_verified") is False:
                raise NotAllowed("the identity provider has not verified this email", field="email")
            users = await live(User).filter(email__iexact=value)
        else:
            users = await live(User).filter(user_name=value)
        if len(users) != 1:
            raise NotAllowed(f"no single directory user has this {claim}; ask an admin to run `jit sync`", field=claim)
        return users[0]
