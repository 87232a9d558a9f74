"""Sending over SMTP: one connection per batch, every failure classified as temporary or permanent.

yagmail (a fixed choice of the project) opens the connection: SSL or STARTTLS with our own verified TLS context,
or plain on a trusted relay. Login and sending are smtplib calls on the connection it opened, because yagmail
cannot do what mailbot needs there: it appends "@gmail.com" to a login without "@", supports OAuth2 only through
Gmail's client-secret file (mailbot renews its own token: adapters.oauth2), builds its own messages (mailbot sends
bytes built by the stdlib `email` package), and on failure retries for ~18 s and returns False instead of raising.
`smtplib.SMTP.sendmail` returns the refused recipients of a partly accepted mail, which the outbox records.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import yagmail

from mailbot.adapters.connections import describe, tls_context
from mailbot.adapters.oauth2 import OAuth2Tokens, xoauth2
from mailbot.config import Smtp
from mailbot.errors import AuthenticationError, MailbotError, PermanentError, TemporaryError


@dataclass(frozen=True)
class Refusal:
    code: int
    text: str

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


@dataclass(frozen=True)
class SendResult:
    """Accepted for delivery by the server, except `refused` (per recipient, with the server's answer)."""

    refused: dict[str, Refusal] = field(default_factory=dict)


class SendFailedError(Exception):
    """The server answered this mail with an error for every recipient (or for the whole transaction)."""

    def __init__(self, code: int, text: str, refused: dict[str, Refusal] | None = None) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text
        self.refused = refused or {}

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class SmtpConnection:
    """One authenticated SMTP session; use as a context manager around a batch of sends."""

    def __init__(self, config: Smtp, *, tokens: OAuth2Tokens | None = None) -> None:
        """`tokens`: AUTH XOAUTH2 with this renewed OAuth2 token (shared with IMAP) instead of the password."""
        self.config = config
        self._tokens = tokens
        self._client: Any = None

    def __enter__(self) -> SmtpConnection:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def smtp(self) -> smtplib.SMTP:
        if self._client is None or self._client.smtp is None:
            raise TemporaryError("SMTP connection is not open")
        smtp: smtplib.SMTP = self._client.smtp
        return smtp

    def open(self) -> None:
        """Connect, secure and log in. Certificate, STARTTLS or AUTH not offered, refused credentials: permanent
        (a retry cannot help, the configuration must change); a server down or silent: TemporaryError."""
        cfg = self.config
        context = tls_context(cfg.ca_file, "smtp.ca_file")
        kwargs: dict[str, Any] = {"timeout": cfg.timeout}
        if cfg.security == "ssl":
            kwargs["context"] = context
        try:
            self._client = yagmail.SMTP(
                user=cfg.user or cfg.from_address,
                host=cfg.host,
                port=cfg.effective_port,
                smtp_ssl=cfg.security == "ssl",
                smtp_starttls={"context": context} if cfg.security == "starttls" else False,
                smtp_skip_login=True,
                soft_email_validation=False,
                **kwargs,
            )
            self._client.login()  # with smtp_skip_login: connect (+ STARTTLS) only
            self._authenticate()
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise PermanentError(
                f"SMTP server {cfg.host}:{cfg.effective_port}: its TLS certificate could not be verified "
                f"({exc.verify_message}); set smtp.ca_file to the CA that signed it, or fix the server's certificate"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH (often: AUTH only after STARTTLS)
            self.close()
            raise PermanentError(
                f"SMTP server {cfg.host}:{cfg.effective_port} does not offer {_missing(exc)} on this connection "
                f"(smtp.security is '{cfg.security}'); check smtp.security and smtp.port"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise AuthenticationError(
                f"SMTP login refused for user {cfg.user!r} at {cfg.host}:{cfg.effective_port}: {exc.smtp_code} "
                "(check smtp.user and the password or token)",
                "smtp",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryError(f"cannot connect to SMTP {cfg.host}:{cfg.effective_port}: {describe(exc)}") from None
        except MailbotError:  # the OAuth2 token could not be renewed
            self.close()
            raise

    @property
    def features(self) -> dict[str, str]:
        """The server's EHLO extensions (lower-case names), e.g. {"auth": "PLAIN LOGIN", "size": "52428800"}."""
        return dict(self.smtp.esmtp_features)

    def _authenticate(self) -> None:
        cfg = self.config
        password = cfg.password.get_secret_value() if cfg.password else ""
        token = cfg.oauth2_token.get_secret_value() if cfg.oauth2_token else ""
        user = cfg.user
        if user and (token or self._tokens is not None):
            self.smtp.ehlo_or_helo_if_needed()
            if self._tokens is not None:
                self._tokens.authenticate(lambda fresh: self._xoauth2(user, fresh))
            elif refused := self._xoauth2(user, token):
                raise refused
        elif password and cfg.user:
            self.smtp.login(cfg.user, password)

    def _xoauth2(self, user: str, token: str) -> smtplib.SMTPAuthenticationError | None:
        """AUTH XOAUTH2; the server's refusal is returned, for OAuth2Tokens.authenticate to renew the token once."""
        try:
            self.smtp.auth("XOAUTH2", xoauth2(user, token))
        except smtplib.SMTPAuthenticationError as exc:
            return exc
        return None

    def send(self, envelope_from: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        """Hand one mail to the server. Raises SendFailedError (answered) or TemporaryError (connection)."""
        try:
            refused = self.smtp.sendmail(envelope_from, list(recipients), raw)
        except smtplib.SMTPRecipientsRefused as exc:
            answers = {addr: Refusal(code, _text(msg)) for addr, (code, msg) in exc.recipients.items()}
            worst = min(answers.values(), key=lambda r: r.permanent)  # temporary wins: worth a retry
            raise SendFailedError(worst.code, worst.text, answers) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise SendFailedError(exc.smtp_code, _text(exc.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryError(f"SMTP connection failed while sending: {describe(exc)}") from None
        return SendResult({addr: Refusal(code, _text(msg)) for addr, (code, msg) in refused.items()})

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None or client.smtp is None:
            return
        try:
            client.smtp.quit()
        except (OSError, smtplib.SMTPException):
            client.smtp.close()
        client.is_closed = True


def _missing(exc: smtplib.SMTPNotSupportedError) -> str:
    return "STARTTLS" if "STARTTLS" in str(exc).upper() else "AUTH"


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
