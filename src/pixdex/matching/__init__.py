"""The matching rule: hash candidates verified on content signatures (see ``rule``).

The compiled verification (``verify``, numba) is imported on first use, so that reading the rule's
settings does not load the compiler.
"""

from importlib import import_module
from typing import Any

from pixdex.matching.rule import DEFAULT_RULE, MatchRule, Verifier, candidate_views

__all__ = [
    "DEFAULT_RULE",
    "MatchRule",
    "Verifier",
    "candidate_views",
    "scores_pairs",
    "verify",
    "verify_pairs",
]

_COMPILED = ("scores_pairs", "verify", "verify_pairs")


def __getattr__(name: str) -> Any:
    if name not in _COMPILED:
        raise AttributeError(f"module 'pixdex.matching' has no attribute {name!r}")
    return getattr(import_module("pixdex.matching.verification"), name)
