"""argparse value checks shared by the ``sqry`` commands (stdlib only: cheap to import)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def nonempty(what: str) -> Callable[[str], str]:
    """argparse type for a value whose empty string would silently mean something
    else ("any kind", the current directory, no symbol at all)."""

    def check(text: str) -> str:
        if not text:
            raise argparse.ArgumentTypeError(f"expected {what}, got an empty string")
        return text

    return check
