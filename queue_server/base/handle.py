"""What a domain operation spanning several transactions needs of the running hall.

`queue_server.runtime.hall.Hall` is the one implementation; the operations below it (login,
account changes, the provincial upload) take this protocol so the layers stay one-way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from queue_server.base.config import HallConfig
from queue_server.base.db import Database, Tx

T = TypeVar("T")


class HallHandle(Protocol):
    @property
    def config(self) -> HallConfig: ...

    @property
    def db(self) -> Database: ...

    async def run(self, op: Callable[[Tx], T]) -> T:
        """Run one operation in the writer and wait for its commit."""
        ...

    def audit(
        self, tx: Tx, actor: str, action: str, target: str = "", result: str = "ok", **detail: Any
    ) -> None: ...

    def forget_token_ids(self, token_ids: Iterable[int]) -> None:
        """Drop revoked tokens from the authentication cache."""
        ...
