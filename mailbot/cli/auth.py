"""OAuth2 sign-in for a mailbox that logs in with XOAUTH2 (Microsoft 365, Google Workspace, custom)."""

from __future__ import annotations

import click

from mailbot.cli.root import CliState, cli, pass_state


@cli.group("auth")
def auth_group() -> None:
    """OAuth2 sign-in (the `oauth2` section of the configuration)."""


@auth_group.command("login")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Google: loopback port of the redirect (fix one to reach it through `ssh -L PORT:127.0.0.1:PORT`).",
)
@pass_state
def auth_login(state: CliState, port: int) -> None:
    """Sign the mailbox's account in once; mailbot renews the tokens by itself afterwards."""
    from mailbot.services import auth

    store = auth.login(state.app(), click.echo, port=port)
    click.echo(f"Signed in. Tokens kept in {store} (mode 0600); mailbot renews them from now on.")
