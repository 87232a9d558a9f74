"""The `mailbot` command. `root` holds the group, its options and the exit codes; each module adds its commands."""

from mailbot.cli import admin, auth, backup, check, demo, health, mailbox, plans, rounds
from mailbot.cli.plans import render_findings
from mailbot.cli.root import EXIT_PROBLEMS, EXIT_STORAGE, EXIT_TEMPORARY, EXIT_UNUSABLE, CliState, cli

__all__ = [
    "EXIT_PROBLEMS",
    "EXIT_STORAGE",
    "EXIT_TEMPORARY",
    "EXIT_UNUSABLE",
    "CliState",
    "admin",
    "auth",
    "backup",
    "check",
    "cli",
    "demo",
    "health",
    "mailbox",
    "main",
    "plans",
    "render_findings",
    "rounds",
]


def main() -> None:
    cli(prog_name="mailbot")
