"""How numbers read in pixdex's output, the same in the terminal and in the HTML reports: a count
with its noun in the right number ("1 match", "2 matches", "1,204 files") and a size in bytes
with a binary unit ("418 B", "629.6 KiB")."""

from __future__ import annotations

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def count(number: int, one: str, many: str | None = None) -> str:
    """``number`` with thousands separators and the noun it takes: ``one`` for exactly 1, else
    ``many`` (default: ``one`` + "s")."""
    noun = one if number == 1 else (many if many is not None else f"{one}s")
    return f"{number:,} {noun}"


def byte_size(size: int) -> str:
    """``size`` bytes in the largest binary unit that keeps the number ≥ 1, one decimal
    ("1.1 KiB"); plain bytes below 1 KiB ("418 B")."""
    value, step = float(size), 0
    while value >= 1024 and step < len(_BYTE_UNITS) - 1:
        value, step = value / 1024, step + 1
    return f"{size} B" if step == 0 else f"{value:.1f} {_BYTE_UNITS[step]}"
