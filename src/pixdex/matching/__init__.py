"""The matching rule: hash candidates verified on content signatures (see ``rule``)."""

from pixdex.matching.rule import DEFAULT_RULE, MatchRule, candidate_views
from pixdex.matching.verify import Verifier, scores_pairs, verify, verify_pairs

__all__ = [
    "DEFAULT_RULE",
    "MatchRule",
    "Verifier",
    "candidate_views",
    "scores_pairs",
    "verify",
    "verify_pairs",
]
