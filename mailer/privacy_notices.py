"""Privacy notices: each published version's template and the facts it declares, and the
checks that the settings agree with the notice in force."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from mailer.paths import TEMPLATES

# The form of a privacy notice version: year, month and a number ("2026-11-v1").
NOTICE_VERSION = r"\d{4}-\d{2}-v\d{1,3}"
NOTICES = TEMPLATES / "privacy"


class NoticeError(ValueError):
    """A notice's declaration is missing or malformed, or a version is no version."""


def problems(settings: dict[str, Any]) -> list[str]:
    """What is wrong with the notice the settings name: none, or it or an earlier one is
    declared wrongly."""
    version = str(settings.get("PRIVACY_NOTICE_VERSION", ""))
    if not re.fullmatch(NOTICE_VERSION, version) or not (NOTICES / f"{version}.html").is_file():
        return [f"MAILER_PRIVACY_NOTICE_VERSION={version!r} names no notice in templates/privacy/"]
    return _declaration_problems(version)


@dataclass(frozen=True)
class NoticeFacts:
    """What a privacy notice version tells people, as templates/privacy/<version>.json says."""

    published: date
    controller: str
    contact: str
    unconfirmed_retention_days: int
    unsubscribed_retention_days: int
    delivery_retention_days: int


# The setting that each fact a privacy notice states must agree with.
NOTICE_FACTS = {
    "controller": "PRIVACY_CONTROLLER",
    "contact": "PRIVACY_CONTACT",
    "unconfirmed_retention_days": "UNCONFIRMED_RETENTION_DAYS",
    "unsubscribed_retention_days": "UNSUBSCRIBED_RETENTION_DAYS",
    "delivery_retention_days": "DELIVERY_RETENTION_DAYS",
}


def notice_order(version: str) -> tuple[int, ...]:
    """'2026-11-v2' as (2026, 11, 2), so that v10 comes after v9."""
    return tuple(int(number) for number in re.findall(r"\d+", version))


def read_notice(version: str) -> NoticeFacts:
    """The facts privacy notice `version` states, from the declaration beside its template.

    :raises NoticeError: the declaration is missing or malformed.
    """
    where = f"templates/privacy/{version}.json"
    if not re.fullmatch(NOTICE_VERSION, version):
        raise NoticeError(f"{version!r} is not a privacy notice version")
    try:
        declared = json.loads((NOTICES / f"{version}.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoticeError(
            f"privacy notice {version} declares no facts: add {where} giving the "
            f"{', '.join(['published', *NOTICE_FACTS])} it states"
        ) from None
    except (OSError, ValueError) as error:
        raise NoticeError(f"{where} is not readable JSON: {error}") from None
    return _notice_facts(where, declared)


def _notice_facts(where: str, declared: Any) -> NoticeFacts:
    """Check a declaration's keys and the type of each value, naming every fault."""
    keys = ["published", *NOTICE_FACTS]
    if not isinstance(declared, dict) or sorted(declared) != sorted(keys):
        raise NoticeError(f"{where} must be a JSON object with exactly the keys {', '.join(keys)}")
    faults = [
        f"{name} must be a non-empty string"
        for name in ("controller", "contact")
        if not isinstance(declared[name], str) or not declared[name].strip()
    ]
    faults += [
        f"{name} must be a whole number of days, at least 1"
        for name in keys
        # type() rather than isinstance(), which would take true and false for 1 and 0.
        if name.endswith("_days") and (type(declared[name]) is not int or declared[name] < 1)
    ]
    try:
        published = date.fromisoformat(declared["published"])
    except (TypeError, ValueError):
        faults.append("published must be a date, YYYY-MM-DD")
    if faults:
        raise NoticeError(f"{where}: {'; '.join(faults)}")
    return NoticeFacts(**{**declared, "published": published})


def _declaration_problems(current: str) -> list[str]:
    """Every notice in force now or before whose declaration is missing or malformed."""
    problems = []
    for version in _notices_in_force(current):
        try:
            read_notice(version)
        except NoticeError as error:
            problems.append(str(error))
    return problems


def _notices_in_force(current: str) -> list[str]:
    """The versions of `current` and every notice before it (a later one is a draft)."""
    versions = (template.stem for template in sorted(NOTICES.glob("*.html")))
    return [
        version
        for version in versions
        if re.fullmatch(NOTICE_VERSION, version) and notice_order(version) <= notice_order(current)
    ]


def differences(settings: dict[str, Any]) -> list[str]:
    """Each setting that contradicts what the current privacy notice tells people."""
    version = str(settings.get("PRIVACY_NOTICE_VERSION", ""))
    try:
        declared = read_notice(version)
    except NoticeError:
        # problems() names a missing or malformed notice.
        return []
    return [
        f"MAILER_{setting} is {settings.get(setting)!r} but privacy notice {version} tells "
        f"people {getattr(declared, fact)!r}: publish a new notice version (templates/privacy/) "
        "and set MAILER_PRIVACY_NOTICE_VERSION"
        for fact, setting in NOTICE_FACTS.items()
        if settings.get(setting) != getattr(declared, fact)
    ]
