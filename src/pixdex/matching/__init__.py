"""The matching rule: hash candidates verified on content signatures (see ``rule``).

The compiled verification (``verify``, numba) is imported on first use, so that reading the rule's
settings does not load the compiler.
"""

from pixdex.lazy import lazy_names
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

__getattr__, __dir__ = lazy_names(
    __name__, {name: "verification" for name in ("scores_pairs", "verify", "verify_pairs")}
)
