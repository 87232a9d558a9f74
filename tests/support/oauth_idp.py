"""The one stand-in of the OAuth2 tests: a tiny identity provider on loopback.

Microsoft's and Google's identity platforms cannot run here, so this plays their part, and only that: an RFC 6749
token endpoint over HTTPS with the test CA (refresh_token grant with rotation and revocation; for `mailbot auth
login`, RFC 8628's device code and Google's authorization code with PKCE, each approved at once), and an RFC 7662
introspection endpoint that Dovecot's `oauth2` passdb asks about every bearer token. Everything else in the OAuth2
tests is real: Dovecot checks the tokens, Postfix authenticates submission through Dovecot's SASL, and mailbot's
adapters renew their tokens with Authlib.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

CLIENT_ID = "mailbot-tests"
CLIENT_SECRET = "client-secret-de-prueba"
USER_CODE = "BCDF-GHJK"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class _Grant:
    user: str
    refresh_tokens: list[str] = field(default_factory=list)  # every one issued; only the last is valid
    revoked: bool = False


class IdentityProvider:
    """Issues access tokens that live `lifetime` seconds; rotates the refresh token every `rotate_every` refreshes."""

    def __init__(self, *, lifetime: int = 5, rotate_every: int = 2) -> None:
        """Binds both ports now (Dovecot's configuration names them); serves from `start()`."""
        self.lifetime = lifetime
        self.rotate_every = rotate_every
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}  # by current refresh token
        self._access: dict[str, tuple[str, float]] = {}  # token -> (user, monotonic expiry)
        self.refreshes = 0
        self.rotations = 0
        self.device_user = "planeacion@municipio.test"  # who signs in when a device code is entered
        self._devices: dict[str, int] = {}  # device code -> polls so far
        self._codes: dict[str, tuple[str, str]] = {}  # authorization code -> (PKCE challenge, redirect URI)
        self._https = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())  # Dovecot's introspection only
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (self._https, self._http)]

    @property
    def token_url(self) -> str:
        return f"https://127.0.0.1:{self._https.server_address[1]}/token"

    @property
    def device_url(self) -> str:
        return f"https://127.0.0.1:{self._https.server_address[1]}/device"

    @property
    def authorization_url(self) -> str:
        return f"https://127.0.0.1:{self._https.server_address[1]}/authorize"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/introspect"

    def start(self, cert: Path, key: Path) -> None:
        """Serve: the token endpoint over TLS with the test servers' certificate, introspection in plain HTTP."""
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        self._https.socket = tls.wrap_socket(self._https.socket, server_side=True)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for server in (self._https, self._http):
            server.shutdown()
            server.server_close()

    # -- what the tests do --------------------------------------------------------------------------------

    def grant(self, user: str) -> str:
        """A first refresh token for `user`, as an admin's consent would give."""
        token = "rt-" + secrets.token_urlsafe(16)
        with self._lock:
            self._grants[token] = _Grant(user, [token])
        return token

    def revoke(self, user: str) -> None:
        """The admin revokes the user's sessions: refresh and access tokens stop working."""
        with self._lock:
            for grant in self._grants.values():
                if grant.user == user:
                    grant.revoked = True
            self._access = {t: v for t, v in self._access.items() if v[0] != user}

    def expire_access_tokens(self) -> None:
        """Every access token expires now (the server refuses them before the client expects)."""
        with self._lock:
            self._access.clear()

    def all_expired(self) -> bool:
        now = time.monotonic()
        with self._lock:
            return all(expires <= now for _, expires in self._access.values())

    # -- the endpoints ------------------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == DEVICE_CODE_GRANT:
            return self._device_token(form.get("device_code", ""))
        if form.get("grant_type") == "authorization_code":
            return self._code_token(form)
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.get(form.get("refresh_token", ""))
            if grant is None or grant.revoked:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS50173: the grant was revoked"}
            self.refreshes += 1
            answer: dict[str, Any] = {"token_type": "Bearer", "expires_in": self.lifetime}
            if self.refreshes % self.rotate_every == 0:
                old = grant.refresh_tokens[-1]
                new = "rt-" + secrets.token_urlsafe(16)
                grant.refresh_tokens.append(new)
                del self._grants[old]
                self._grants[new] = grant
                self.rotations += 1
                answer["refresh_token"] = new
            access = "at-" + secrets.token_urlsafe(16)
            self._access[access] = (grant.user, time.monotonic() + self.lifetime)
            answer["access_token"] = access
        return 200, answer

    def _device(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """RFC 8628: a code for the person to enter; `device_user` signs in after the client's first poll."""
        if form.get("client_id") != CLIENT_ID:
            return 401, {"error": "invalid_client"}
        code = "dc-" + secrets.token_urlsafe(16)
        with self._lock:
            self._devices[code] = 0
        return 200, {
            "device_code": code,
            "user_code": USER_CODE,
            "verification_uri": "https://login.example.test/device",
            "expires_in": 60,
            "interval": 0,
        }

    def _device_token(self, code: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if code not in self._devices:
                return 400, {"error": "expired_token"}
            self._devices[code] += 1
            if self._devices[code] == 1:
                return 400, {"error": "authorization_pending"}
            del self._devices[code]
        return self._signed_in(self.device_user)

    def _signed_in(self, user: str) -> tuple[int, dict[str, Any]]:
        """The first tokens of a sign-in: a refresh token and an access token."""
        refresh = self.grant(user)
        access = "at-" + secrets.token_urlsafe(16)
        with self._lock:
            self._access[access] = (user, time.monotonic() + self.lifetime)
        return 200, {
            "token_type": "Bearer", "expires_in": self.lifetime, "access_token": access, "refresh_token": refresh,
        }  # fmt: skip

    def _authorize(self, query: dict[str, str]) -> str:
        """The browser's sign-in (approved at once): a code bound to the PKCE challenge, back to the redirect URI."""
        code = "code-" + secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (query.get("code_challenge", ""), query.get("redirect_uri", ""))
        return f"{query.get('redirect_uri', '')}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def _code_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            challenge, redirect = self._codes.pop(form.get("code", ""), ("", ""))
        verifier = form.get("code_verifier", "").encode()
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if not challenge or challenge != expected or redirect != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "code, verifier or redirect_uri wrong"}
        return self._signed_in(self.device_user)

    def _introspect(self, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            user, expires = self._access.get(form.get("token", ""), ("", 0.0))
        if not user or expires <= time.monotonic():
            return {"active": False}
        return {"active": True, "username": user}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path == "/token":
                    status, body = idp._token(form)
                elif self.path == "/device":
                    status, body = idp._device(form)
                elif self.path == "/introspect":
                    status, body = 200, idp._introspect(form)
                else:
                    status, body = 404, {"error": "not_found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path != "/authorize":
                    self.send_error(404)
                    return
                self.send_response(302)
                self.send_header("Location", idp._authorize({k: v[0] for k, v in parse_qs(query).items()}))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tokens must not reach test logs
                return

        return Handler
