"""The matching rule: hash candidates verified on content signatures (see ``rule``)."""

from pixdex.matching.rule import DEFAULT_RULE, MatchRule, candidate_views
from pixdex.matching.verify import Verifier, scores, verify

__all__ = ["DEFAULT_RULE", "MatchRule", "Verifier", "candidate_views", "scores", "verify"]
