"""Builds the adapters from the configuration: the only module that knows all of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailbot.adapters.clock import SystemClock
from mailbot.adapters.db.engine import make_engine, make_session_factory
from mailbot.config import MailbotConfig


@dataclass
class App:
    """Lazily connected: building an App opens nothing, so `config check` never touches a server."""

    config: MailbotConfig
    clock: SystemClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = SystemClock(self.config.municipality.timezone)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.config.storage.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
