"""Warehouse sizes and how many runs a warehouse takes at once: shared by the DDL and the scheduler."""

from __future__ import annotations

# Servers per size: the default MAX_CONCURRENCY_LEVEL when none is given.
SIZES = {
    "XSMALL": 1, "SMALL": 2, "MEDIUM": 4, "LARGE": 8, "XLARGE": 16, "XXLARGE": 32, "XXXLARGE": 64,
    "X4LARGE": 128, "X5LARGE": 256, "X6LARGE": 512,
}


def effective_concurrency(size: str, max_level: int | None) -> int:
    return max_level if max_level else SIZES.get(size, 1)
