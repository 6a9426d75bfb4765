"""``pixdex eval``'s defaults, shown by ``pixdex eval --help``: plain values in a module that
imports nothing, so that the command line's help does not load the evaluation (numpy, Pillow)."""

from __future__ import annotations

DEFAULT_MODES = [
    "rule",
    "rule+flips",
    "dhash",
    "ahash",
    "phash",
    "whash",
    "pdq",
    "dhash+flips",
    "dhash+pdq",
]
"""The matching rule as shipped (what ``pixdex search`` does by default, and with ``--flips``),
every algorithm alone, plus the two hash-only search modes built on the default algorithm."""

DEFAULT_EVAL_EDITS = [
    "red-square",
    "shapes-text",
    "resize-50",
    "jpeg-30",
    "crop-5",
    "brightness",
    "contrast",
    "blur",
    "grayscale",
    "border",
    "squash",
    "mirror",
    "rotate-90",
]
"""The edits of the issue: the original design's two demo edits and the everyday ones."""

DEFAULT_SAMPLE = 200
"""Originals drawn by default: 19,900 pairs of different originals, so false-match rates down
to about 5e-5 are resolved, in a few minutes on a laptop core."""

DEFAULT_TARGET = 1e-4
"""Default false-match budget per pair: one pair in 10,000. Searching a catalog of N images then
returns about N/10,000 unrelated images per query."""
