"""The production keys: random enough, long enough, and never one used for two things."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

# A production key holds at least this many bits by a character-frequency estimate: 32 random
# hex digits score about 110 (in 200,000 draws, never under 90); 36 times "a" scores 0.
MIN_KEY_BITS = 80
KEY_RULE = "must be a random value of at least 32 characters"
# The share of a key's three-character pieces that must differ from each other.
MIN_DISTINCT_PIECES = 0.6


def key_problems(settings: dict[str, Any]) -> list[str]:
    """The production keys, every fallback included: random, long, and not the same one twice."""
    problems = []
    secret = settings.get("SECRET_KEY")
    if not _looks_random(secret):
        problems.append(f"MAILER_SECRET_KEY {KEY_RULE}")
    fallbacks = settings.get("SECRET_KEY_FALLBACKS")
    if not isinstance(fallbacks, list | tuple) or not all(isinstance(k, str) for k in fallbacks):
        problems.append("MAILER_SECRET_KEY_FALLBACKS must be a JSON list of the older keys")
        fallbacks = []
    problems += [
        # Sessions and links signed with any fallback are accepted: a weak one is a way in.
        f"key {number} of MAILER_SECRET_KEY_FALLBACKS {KEY_RULE}; remove any key that was "
        "ever public"
        for number, key in enumerate(fallbacks, start=1)
        if not _looks_random(key)
    ]
    suppression_key = settings.get("SUPPRESSION_KEY")
    if not _looks_random(suppression_key):
        problems.append(f"MAILER_SUPPRESSION_KEY {KEY_RULE}, set once and never changed")
    elif suppression_key == secret or suppression_key in fallbacks:
        problems.append(
            "MAILER_SUPPRESSION_KEY must differ from MAILER_SECRET_KEY and its fallbacks"
        )
    return problems


def _looks_random(key: Any) -> bool:
    """Whether a key could be random: 32 characters or more, not one of the visibly fake
    ones, not a short run repeated, and MIN_KEY_BITS by the frequencies of its characters."""
    if not isinstance(key, str) or len(key) < 32 or "not-for-production" in key:
        return False
    if key in (key + key)[1:-1]:
        return False
    # A run repeated, even with a character added or the last repeat cut short, has few
    # distinct three-character pieces: random keys have nearly all theirs distinct (32
    # random digits, never under 70% in 100,000 draws), "password" * 4 + "1" has 29%.
    pieces = [key[i : i + 3] for i in range(len(key) - 2)]
    if len(set(pieces)) < MIN_DISTINCT_PIECES * len(pieces):
        return False
    counts = Counter(key)
    bits = -sum(count * math.log2(count / len(key)) for count in counts.values())
    return bits >= MIN_KEY_BITS
