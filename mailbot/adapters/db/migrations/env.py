"""Alembic environment: used by `mailbot db upgrade` (engine passed in) and by the `alembic` CLI."""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from sqlalchemy import Engine

from mailbot.adapters.db.engine import make_engine
from mailbot.adapters.db.models import Base, UTCDateTime

config = context.config


def _engine() -> Engine:
    given = config.attributes.get("engine")
    if isinstance(given, Engine):
        return given
    url = os.environ.get("MAILBOT_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        from mailbot.config import load_config, resolve_config_path

        url = load_config(resolve_config_path(None)).storage.database_url
    return make_engine(url)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write UTCDateTime as plain sa.DateTime(): a migration must not import today's models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,  # SQLite alters tables by copying them; harmless elsewhere
            compare_type=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
run_migrations()
