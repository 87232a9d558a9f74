"""The test Dovecot and Postfix with OAuth2: XOAUTH2 and OAUTHBEARER checked against the stand-in identity provider.

A separate `MailServers` configuration, added on top of the plain one without changing it: Dovecot gets an
`oauth2` passdb (built into Dovecot 2.3's auth process) that introspects every bearer token at
`tests/support/oauth_idp.py`, and Postfix gets a submission port that requires STARTTLS and authenticates through
Dovecot's SASL socket, so whatever Dovecot offers, XOAUTH2 included, is what Postfix offers after STARTTLS.
"""

from __future__ import annotations

from collections.abc import Iterable

from tests.support.mailservers import DEFAULT_USERS, PASSWORD, MailServerError, MailServers, _free_ports, _write
from tests.support.oauth_idp import IdentityProvider


class OAuthMailServers(MailServers):
    """`MailServers` plus the identity provider, an oauth2 passdb and SMTP submission with SASL on `submission_port`."""

    def __init__(
        self,
        users: Iterable[str] = DEFAULT_USERS,
        password: str = PASSWORD,
        *,
        lifetime: int = 5,
        rotate_every: int = 2,
    ) -> None:
        self.idp = IdentityProvider(lifetime=lifetime, rotate_every=rotate_every)
        super().__init__(users, password)
        taken = {self.imap_port, self.imaps_port, self.smtp_port}
        self.submission_port = next(p for p in _free_ports(4) if p not in taken)

    def start(self) -> None:
        super().start()  # writes the certificates first
        self.idp.start(self.root / "certs" / "server.pem", self.root / "certs" / "server.key")

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.idp.stop()

    def _dovecot_config(self) -> str:
        oauth2 = self.root / "dovecot" / "oauth2.conf.ext"
        _write(
            oauth2,
            f"introspection_url = {self.idp.introspection_url}\n"
            "introspection_mode = post\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n",
        )
        base = super()._dovecot_config()
        passwords = "passdb {\n  driver = passwd-file\n"
        if passwords not in base:
            raise MailServerError("the passwd-file passdb moved: keep it from answering XOAUTH2 (see below)")
        # Passwords answer PLAIN and LOGIN only: a password sent as a bearer token must not log in.
        base = base.replace(passwords, passwords + "  mechanisms = plain login\n", 1)
        return (
            base
            + f"""
# OAuth2 (tests/support/oauth_mailservers.py): bearer tokens are introspected at the stand-in identity provider.
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth2}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""
        )

    def _postfix_master(self) -> str:
        sasl = self.root / "dovecot" / "run" / "auth-postfix"
        return super()._postfix_master() + (
            f"{self.host}:{self.submission_port} inet n - n - - smtpd\n"
            "  -o syslog_name=postfix/submission\n"
            "  -o smtpd_tls_security_level=encrypt\n"
            "  -o smtpd_tls_auth_only=yes\n"
            "  -o smtpd_sasl_auth_enable=yes\n"
            "  -o smtpd_sasl_type=dovecot\n"
            f"  -o smtpd_sasl_path={sasl}\n"
            "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"
        )
