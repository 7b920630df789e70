"""What every service call needs: config, database, who is acting where, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from pos.config import Config

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    config: Config
    database_url: str
    operator: str = ""
    clock: Callable[[], datetime] = field(default=system_clock)
    training: bool = (
        False  # training mode: sales are journalled as training, never real takings or valid tickets
    )

    @cached_property
    def engine(self) -> Engine:
        from pos.db.engine import make_engine

        return make_engine(self.database_url)

    @property
    def terminal(self) -> str:
        return self.config.terminal.name

    @property
    def acting_operator(self) -> str:
        return self.operator or self.config.terminal.operator

    def now(self) -> datetime:
        return self.clock()


def make_runtime(config: Config, database_url: str | None = None, operator: str = "") -> Runtime:
    """--db wins over [database] url."""
    return Runtime(config=config, database_url=database_url or config.database.url, operator=operator)
