"""OAuth2 access tokens that renew themselves, for XOAUTH2 logins to IMAP and SMTP.

The exchange with the token endpoint goes through Authlib (`authlib.integrations.requests_client.OAuth2Session`),
chosen because one well-kept library covers what the three providers need: the RFC 6749 refresh_token grant
(keeping the old refresh token when the provider sends none, as Google does), PKCE and the authorization-code
grant for Google's installed-app flow, any extra grant type such as RFC 8628's device code, and OAuth errors as
exceptions carrying `error` ("invalid_grant"), with `verify` and `timeout` per request. msal was not chosen
because it speaks only to Microsoft's identity platform (Google and custom providers would need a second library)
and keeps its own token cache beside ours; requests-oauthlib would serve, but oauthlib refuses a plain-HTTP
endpoint unless a process-wide environment switch is set, and needs a client class per grant type. What is written here
by hand is only what no library does for a mail client: the SASL XOAUTH2 string, the token store and when to
renew.

`OAuth2Tokens` is shared by the IMAP and SMTP adapters of one process (a lock), and by the processes of one
installation (an flock beside the store): a refresh token that the provider rotates is used once, by one of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailbot.config import OAuth2
from mailbot.errors import AuthenticationError, PermanentError, TemporaryError
from mailbot.log import get_logger

if TYPE_CHECKING:  # Authlib and requests (~30 MB) are imported only when a token is renewed or a sign-in runs
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

log = get_logger(__name__)

#: Renew this long before expiry at most; a short-lived token is renewed after half its life instead.
RENEW_MARGIN_SECONDS = 300.0
# What a refused refresh means, for the one line an operator reads (RFC 6749 section 5.2).
_REFUSED = {
    "invalid_grant": "the refresh token was revoked or has expired; run `mailbot auth login` again "
    "(or set a new oauth2.refresh_token)",
    "invalid_client": "the provider does not know this client: check oauth2.client_id and oauth2.client_secret",
    "unauthorized_client": "this client may not use refresh tokens: check the app registration",
    "invalid_scope": "the provider refuses these scopes: check oauth2.scopes and the app's permissions",
}
_MICROSOFT = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0"
GOOGLE_AUTHORIZATION_URL = "https://accounts.google.com/o/oauth2/v2/auth"
_GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {
    "microsoft": (
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
    ),
    "google": ("https://mail.google.com/",),
    "custom": (),
}


def xoauth2(user: str, token: str) -> Callable[..., str]:
    """The SASL XOAUTH2 client for imaplib's `authenticate` and smtplib's `auth` (the only part written by hand).

    The first call answers with `user=U^Aauth=Bearer T^A^A`; a server that refuses sends its JSON error as a
    further challenge, which must be answered with an empty line (not the token again) to get the final NO/535.
    """
    answers = iter([f"user={user}\x01auth=Bearer {token}\x01\x01"])

    def respond(challenge: bytes | None = None) -> str:
        return next(answers, "")

    return respond


def token_url(config: OAuth2) -> str:
    if config.token_url:
        return config.token_url
    if config.provider == "microsoft":
        return _MICROSOFT.format(tenant=config.tenant) + "/token"
    return _GOOGLE_TOKEN_URL


def device_authorization_url(config: OAuth2) -> str | None:
    if config.provider == "microsoft":
        return _MICROSOFT.format(tenant=config.tenant) + "/devicecode"
    return config.device_authorization_url


def scopes(config: OAuth2) -> list[str]:
    return list(config.scopes) if config.scopes else list(DEFAULT_SCOPES[config.provider])


def session(config: OAuth2, **kwargs: Any) -> OAuth2Session:
    """An Authlib session for the configured client (secret in the body when there is one; public client else)."""
    from authlib.integrations.requests_client import OAuth2Session

    secret = (config.client_secret.get_secret_value() if config.client_secret else "") or None  # "${X:-}" is none
    method = "client_secret_post" if secret else "none"
    return OAuth2Session(
        config.client_id, secret, scope=" ".join(scopes(config)) or None, token_endpoint_auth_method=method, **kwargs
    )


def request_options(config: OAuth2) -> dict[str, Any]:
    """Per request, not on the session: requests lets REQUESTS_CA_BUNDLE override a session's `verify`."""
    return {"timeout": config.timeout, "verify": str(config.ca_file) if config.ca_file else True}


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else ""


@dataclass(frozen=True)
class StoredToken:
    refresh_token: str = field(repr=False)  # never in a log or a traceback
    access_token: str = field(default="", repr=False)
    expires_at: float = 0.0  # epoch seconds
    lifetime: float = 0.0  # seconds the access token was issued for
    issued_for: str = ""  # fingerprint of oauth2.refresh_token when this was written: a new one there wins


class TokenStore:
    """The token file: JSON, mode 0600 from its creation, replaced atomically (a crash leaves old or new)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> StoredToken | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise PermanentError(f"oauth2.token_store {self.path} cannot be read: {type(exc).__name__}") from None
        if not isinstance(data, dict) or not isinstance(data.get("refresh_token"), str):
            raise PermanentError(f"oauth2.token_store {self.path} is not a mailbot token file")
        return StoredToken(
            str(data["refresh_token"]),
            str(data.get("access_token", "")),
            float(data.get("expires_at", 0.0)),
            float(data.get("lifetime", 0.0)),
            str(data.get("issued_for", "")),
        )

    def save(self, token: StoredToken) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".oauth2-", dir=self.path.parent)  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(token.__dict__, out)
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across processes, so a rotated refresh token is spent once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


class OAuth2Tokens:
    """The current access token, renewed before it expires and once after the server refused it."""

    def __init__(self, config: OAuth2, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = TokenStore(config.token_store)
        self._clock = clock
        self._lock = threading.Lock()
        self._current: StoredToken | None = None
        self.refreshes = 0  # renewals done by this process (shown in logs, counted by tests)
        self._refused: tuple[str, AuthenticationError] | None = None  # a refresh token the provider refused

    def access_token(self) -> str:
        """A token valid for a while yet. Refused refresh: AuthenticationError; endpoint down: TemporaryError."""
        with self._lock:
            current = self._current
            if current is None or self._due(current):
                current = self._renew(refused=None)
            return current.access_token

    def renew_after_refusal(self, refused: str) -> str:
        """A fresh token after the mail server refused `refused` (revoked or expired early); renewed once."""
        with self._lock:
            current = self._current
            if current is not None and current.access_token != refused and not self._due(current):
                return current.access_token  # another thread has renewed it meanwhile
            return self._renew(refused=refused).access_token

    def authenticate(self, attempt: Callable[[str], BaseException | None]) -> None:
        """Log in with `attempt(token)` (None: accepted; else the server's refusal); a refusal renews the token once.

        The one place where IMAP and SMTP share the rule: a token the server refuses before its time (revoked,
        clocks apart) is renewed and tried once more; a second refusal is raised, for the adapter to word.
        """
        token = self.access_token()
        if attempt(token) is None:
            return
        log.info("oauth2_token_refused_renewing")
        refused = attempt(self.renew_after_refusal(token))
        if refused is not None:
            raise refused

    def _due(self, token: StoredToken) -> bool:
        lifetime_left = token.expires_at - self._clock()
        return not token.access_token or lifetime_left <= self._margin(token)

    @staticmethod
    def _margin(token: StoredToken) -> float:
        return min(RENEW_MARGIN_SECONDS, token.lifetime / 2) if token.lifetime > 0 else RENEW_MARGIN_SECONDS

    def _renew(self, *, refused: str | None) -> StoredToken:
        """Under the store's lock: the stored token if another process renewed it meanwhile, else a refresh."""
        configured = self.config.refresh_token.get_secret_value() if self.config.refresh_token else ""
        with self.store.locked():
            stored = self.store.load()
            if configured and (stored is None or stored.issued_for != _fingerprint(configured)):
                stored = StoredToken(configured, issued_for=_fingerprint(configured))
            if stored is None:
                raise AuthenticationError(
                    f"no OAuth2 refresh token yet: run `mailbot auth login`, or set oauth2.refresh_token "
                    f"(token store {self.store.path})",
                    "oauth2",
                )
            if stored.access_token != refused and not self._due(stored):
                self._current = stored  # renewed by another process, or by this one before a restart
                return stored
            if self._refused is not None and self._refused[0] == stored.refresh_token:
                # Asking again cannot help (and providers lock out clients that insist): a new login or a new
                # oauth2.refresh_token changes the stored token, and then it is tried.
                raise AuthenticationError(str(self._refused[1]), "oauth2")
            try:
                fresh = self._refresh(stored)
            except AuthenticationError as exc:
                self._refused = (stored.refresh_token, exc)
                raise
            self.store.save(fresh)
        self._current = fresh
        return fresh

    def _refresh(self, stored: StoredToken) -> StoredToken:
        import requests
        from authlib.integrations.base_client.errors import OAuthError

        url = token_url(self.config)
        client = session(self.config)
        try:
            token = client.refresh_token(url, refresh_token=stored.refresh_token, **request_options(self.config))
        except OAuthError as exc:
            if exc.error in _REFUSED:
                raise AuthenticationError(
                    f"OAuth2 refresh refused by {url} ({exc.error}: {exc.description or 'no description'}): "
                    f"{_REFUSED[exc.error]}",
                    "oauth2",
                ) from None
            raise TemporaryError(f"OAuth2 token endpoint {url} answered {exc.error}") from None
        except requests.RequestException as exc:
            raise TemporaryError(f"OAuth2 token endpoint {url} cannot be reached: {type(exc).__name__}") from None
        finally:
            client.close()
        access = str(token.get("access_token") or "")
        if not access:
            raise TemporaryError(f"OAuth2 token endpoint {url} sent no access_token")
        lifetime = float(token.get("expires_in") or 3600)
        refresh = str(token.get("refresh_token") or stored.refresh_token)
        fresh = StoredToken(refresh, access, self._clock() + lifetime, lifetime, stored.issued_for)
        self.refreshes += 1
        log.info(
            "oauth2_token_renewed",
            expires_in=int(lifetime),
            rotated=refresh != stored.refresh_token,  # a key naming a token would be masked in the log
            renewals=self.refreshes,
        )
        return fresh

    def keep_login(self, token: dict[str, Any]) -> None:
        """Store the tokens a `mailbot auth login` obtained; they win over oauth2.refresh_token as it is now."""
        refresh = str(token.get("refresh_token") or "")
        if not refresh:
            raise PermanentError(
                "the provider sent no refresh token: ask for offline access (Microsoft: the offline_access scope; "
                "Google: consent again)"
            )
        configured = self.config.refresh_token.get_secret_value() if self.config.refresh_token else ""
        lifetime = float(token.get("expires_in") or 3600)
        fresh = StoredToken(
            refresh, str(token.get("access_token") or ""), self._clock() + lifetime, lifetime, _fingerprint(configured)
        )
        with self._lock, self.store.locked():
            self.store.save(fresh)
            self._current = fresh


DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_login(config: OAuth2, show: Callable[[str], None], *, sleep: Callable[[float], None] = time.sleep) -> Any:
    """RFC 8628 device authorization: `show` tells the person where to sign in, then the token endpoint is polled.

    Microsoft's choice for a server without a browser: the person signs in on any device with the code shown.
    """
    import requests
    from authlib.integrations.base_client.errors import OAuthError

    url = device_authorization_url(config)
    if url is None:
        raise PermanentError(
            "oauth2.device_authorization_url is needed for `mailbot auth login` with provider 'custom' "
            "(or give oauth2.refresh_token instead)"
        )
    client = session(config)
    try:
        answer = client.post(
            url, data={"client_id": config.client_id, "scope": " ".join(scopes(config))}, withhold_token=True,
            **request_options(config),
        )  # fmt: skip
        grant = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise TemporaryError(f"OAuth2 device endpoint {url} cannot be used: {type(exc).__name__}") from None
    if "device_code" not in grant:
        raise PermanentError(f"OAuth2 device endpoint {url} refused: {grant.get('error', answer.status_code)}")
    show(
        str(grant.get("message") or "")
        or f"Open {grant.get('verification_uri')} and enter the code {grant.get('user_code')}"
    )
    interval = float(grant.get("interval", 5))
    deadline = time.monotonic() + float(grant.get("expires_in", 900))
    while time.monotonic() < deadline:
        sleep(interval)
        try:
            return client.fetch_token(
                token_url(config), grant_type=DEVICE_CODE_GRANT, device_code=grant["device_code"],
                **request_options(config),
            )  # fmt: skip
        except OAuthError as exc:
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += 5
                continue
            raise _sign_in_refused(exc) from None
        except requests.RequestException as exc:
            raise TemporaryError(f"OAuth2 token endpoint cannot be reached: {type(exc).__name__}") from None
    raise AuthenticationError("the sign-in code expired unused: run `mailbot auth login` again", "oauth2")


def _sign_in_refused(exc: OAuthError) -> AuthenticationError:
    return AuthenticationError(f"OAuth2 sign-in refused: {exc.error} ({exc.description or 'no description'})", "oauth2")


def loopback_login(
    config: OAuth2,
    show: Callable[[str], None],
    *,
    port: int = 0,
    wait: float = 600,
    authorization_url: str = GOOGLE_AUTHORIZATION_URL,
) -> Any:
    """Google's installed-app flow: authorization code with PKCE, redirected to a listener on 127.0.0.1:`port`.

    Google offers no device flow for the Gmail scope and has retired the pasted-code (out-of-band) flow, so the
    browser must reach this loopback address: on the server itself, or from a laptop through `ssh -L PORT:...`.
    """
    import requests
    from authlib.integrations.base_client.errors import OAuthError

    received: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.path)
            body = "mailbot: autorización recibida; puede cerrar esta ventana.".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # the path carries the code: never logged
            return

    with HTTPServer(("127.0.0.1", port), Redirect) as listener:
        redirect = f"http://127.0.0.1:{listener.server_address[1]}/"
        verifier = secrets.token_urlsafe(64)
        client = session(config, redirect_uri=redirect, code_challenge_method="S256")
        url, state = client.create_authorization_url(
            authorization_url, code_verifier=verifier, access_type="offline", prompt="consent"
        )
        show(f"Open this address in a browser and sign in as the mailbox's account:\n{url}")
        listener.timeout = wait
        deadline = time.monotonic() + wait
        while not any("code=" in p or "error=" in p for p in received):
            if time.monotonic() > deadline:
                raise AuthenticationError("no sign-in arrived: run `mailbot auth login` again", "oauth2")
            listener.handle_request()
    path = next(p for p in received if "code=" in p or "error=" in p)
    try:
        return client.fetch_token(
            token_url(config), authorization_response=redirect.rstrip("/") + path, code_verifier=verifier,
            state=state, **request_options(config),
        )  # fmt: skip
    except OAuthError as exc:
        raise _sign_in_refused(exc) from None
    except requests.RequestException as exc:
        raise TemporaryError(f"OAuth2 token endpoint cannot be reached: {type(exc).__name__}") from None
