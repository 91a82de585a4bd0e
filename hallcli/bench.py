"""`hall bench`: registered by its own module once it exists."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Nothing yet."""
