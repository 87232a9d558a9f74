"""Opening an IMAP connection and logging in: each way it can fail named as an operator can act on it.

Certificate and STARTTLS problems are permanent (a setting to fix), an unreachable or busy server temporary, a
refused login an `AuthenticationError` naming the user and the setting, never the secret. imap-tools opens the
connection and logs in with a password; XOAUTH2 runs on imaplib with `mailbot.adapters.oauth2.xoauth2`, because
imap-tools answers a refused XOAUTH2 with the token again instead of an empty line.
"""

from __future__ import annotations

import imaplib
import ssl

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxLoginError

from mailbot.adapters import imap_wire as wire
from mailbot.adapters.connections import describe, tls_context
from mailbot.adapters.oauth2 import OAuth2Tokens, xoauth2
from mailbot.config import Imap
from mailbot.errors import AuthenticationError, PermanentError, TemporaryError

# RFC 5530: the server cannot check the credentials right now, unlike AUTHENTICATIONFAILED and friends.
_TEMPORARY_LOGIN_CODES = ("[UNAVAILABLE]", "[INUSE]", "[SERVERBUG]")
CONNECTION_LOST = (imaplib.IMAP4.abort, OSError, EOFError)


def open_connection(cfg: Imap) -> BaseMailBox:
    """Connect (and STARTTLS); certificate problems are permanent, network problems temporary."""
    where = f"{cfg.host}:{cfg.effective_port}"
    context = tls_context(cfg.ca_file, "imap.ca_file") if cfg.security != "none" else None
    try:
        if cfg.security == "ssl":
            return MailBox(cfg.host, cfg.effective_port, timeout=cfg.timeout, ssl_context=context)
        if cfg.security == "starttls":
            return MailBoxStartTls(cfg.host, cfg.effective_port, timeout=cfg.timeout, ssl_context=context)
        return MailBoxUnencrypted(cfg.host, cfg.effective_port, timeout=cfg.timeout)
    except ssl.SSLCertVerificationError as exc:
        raise PermanentError(
            f"IMAP server {where}: its TLS certificate could not be verified ({exc.verify_message}); "
            "set imap.ca_file to the CA that signed it, or fix the server's certificate"
        ) from None
    except ImapToolsError as exc:  # STARTTLS refused by the server
        raise PermanentError(f"IMAP server {where} refused STARTTLS ({exc}); check imap.security") from None
    except ValueError as exc:  # imap-tools: STARTTLS on port 993
        raise PermanentError(f"IMAP server {where}: {exc}; check imap.security and imap.port") from None
    except CONNECTION_LOST as exc:
        raise TemporaryError(f"IMAP server {where} cannot be reached: {describe(exc)}") from None
    except imaplib.IMAP4.error as exc:  # a BYE greeting (busy server), or no STARTTLS offered
        if cfg.security == "starttls" and "TLS" in str(exc).upper():
            raise PermanentError(f"IMAP server {where} does not offer STARTTLS; check imap.security") from None
        raise TemporaryError(f"IMAP server {where} refused the connection: {exc}") from None


def log_in(box: BaseMailBox, cfg: Imap, tokens: OAuth2Tokens | None) -> None:
    """LOGIN (AUTHENTICATE PLAIN for non-ASCII) or XOAUTH2 (`tokens`: the renewed OAuth2 token shared with SMTP);
    no folder is selected yet (no wasted SELECT)."""
    token = cfg.oauth2_token.get_secret_value() if cfg.oauth2_token else ""
    password = cfg.password.get_secret_value() if cfg.password else ""
    if not cfg.user or not (token or password or tokens):
        raise PermanentError("imap.user and imap.password (or imap.oauth2_token) are needed to read the mailbox")
    if not (token or tokens) and "LOGINDISABLED" in box.client.capabilities:
        raise PermanentError(
            f"IMAP server {cfg.host} refuses passwords on an unencrypted connection (LOGINDISABLED); "
            "set imap.security to ssl or starttls"
        )
    box.client.untagged_responses.clear()  # so CAPABILITY afterwards can only come from the login answer
    user = cfg.user
    try:
        if tokens is not None:
            tokens.authenticate(lambda fresh: _xoauth2(box, user, fresh))
        elif token:
            if refused := _xoauth2(box, user, token):
                raise refused
        elif password.isascii() and cfg.user.isascii():
            box.login(cfg.user, password, initial_folder=None)
        else:
            box.login_utf8(cfg.user, password, initial_folder=None)
    except MailboxLoginError as exc:
        raise _refusal(cfg, tokens, wire.text(exc.command_result[1]), token or password) from None
    except CONNECTION_LOST as exc:
        where = f"{cfg.host}:{cfg.effective_port}"
        raise TemporaryError(f"IMAP server {where} dropped the connection at login: {describe(exc)}") from None
    except imaplib.IMAP4.error as exc:
        raise _refusal(cfg, tokens, str(exc), token or password) from None


def _xoauth2(box: BaseMailBox, user: str, token: str) -> imaplib.IMAP4.error | None:
    """AUTHENTICATE XOAUTH2 with our SASL client (imap-tools' answers a refusal with the token again).

    Returns the server's NO, for OAuth2Tokens.authenticate to renew the token once; "try later" codes and a
    lost connection raise.
    """
    try:
        box.client.authenticate("XOAUTH2", xoauth2(user, token))  # type: ignore[arg-type]  # imaplib encodes str
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        if any(code in str(exc).upper() for code in _TEMPORARY_LOGIN_CODES):
            raise
        return exc
    return None


def _refusal(
    cfg: Imap, tokens: OAuth2Tokens | None, server_text: str, secret: str
) -> TemporaryError | AuthenticationError:
    """A refused login as an error naming user and server, never the secret (even if the server echoed it)."""
    text = server_text.replace(secret, "[redacted]") if secret else server_text
    where = f"{cfg.host}:{cfg.effective_port}"
    if any(code in text.upper() for code in _TEMPORARY_LOGIN_CODES):
        return TemporaryError(f"IMAP server {where} cannot check logins right now: {text}")
    how = "imap.password"
    if tokens is not None:
        how = "the oauth2 section (the account the token was issued to)"
    elif cfg.oauth2_token:
        how = "imap.oauth2_token"
    return AuthenticationError(
        f"IMAP login refused for '{cfg.user}' at {where} ({text}); check imap.user and {how}", "imap"
    )
