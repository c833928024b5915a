"""The task list of a case study draft: its sections, the questions on each page, and reading
and checking the answers one page sends. Each section saves on its own; a page's answers are
checked for size and form when saved, and for completeness only when marked completed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from mailer.domain.practice_terms import CRIME_TYPES
from mailer.domain.practice_terms import RATINGS
from mailer.domain.practice_terms import SECTIONS
from mailer.domain.practice_terms import SUMMARY_MAX_WORDS
from mailer.domain.practice_terms import THEMES
from mailer.errors import FieldErrors
from mailer.models import CaseStudyRating

MAX_LINE = 200
MAX_TEXT = 5000
MAX_PARTNERS = 1000
# Control characters other than tab and line breaks, which no answer may hold.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f\ufffe\uffff]")
NATIONS = {"england": _l("England"), "wales": _l("Wales")}


@dataclass(frozen=True)
class Question:
    """One question of a section: its form name, label, kind and whether it must be answered."""

    name: str
    label: Any
    kind: str
    hint: Any = ""
    required: bool = True
    max_length: int = MAX_TEXT


@dataclass(frozen=True)
class Task:
    """One section of the task list: a page of questions."""

    key: str
    title: Any
    questions: tuple[Question, ...] = dataclass_field(default_factory=tuple)


def _long(name: str, hint: Any = "", *, required: bool = True) -> Question:
    return Question(name, _l(SECTIONS[name]), "text", hint, required)


TASKS: tuple[Task, ...] = (
    Task(
        "case-study",
        _l("The case study"),
        (
            Question("title", _l("Title"), "line", _l("A short name for the practice")),
            Question(
                "summary", _l("Summary"), "words", _l("What was done and what happened, in brief")
            ),
        ),
    ),
    Task(
        "who",
        _l("Who did it"),
        (
            Question("csp", _l("Your community safety partnership"), "csp"),
            Question(
                "partners",
                _l("Partner organisations"),
                "text",
                _l("For example, the police, the council, a housing association"),
                False,
                MAX_PARTNERS,
            ),
        ),
    ),
    Task(
        "about",
        _l("What it is about"),
        (
            Question("themes", _l("Themes"), "themes", _l("Select all that apply")),
            Question("crime_types", _l("Crime types"), "crime_types", _l("Select all that apply")),
            Question("nation", _l("Nation"), "nation"),
            Question("area", _l("Area"), "line", _l("For example, a town, district or estate")),
        ),
    ),
    Task("problem", _l("The problem"), (_long("problem"), _long("data_used"))),
    Task("response", _l("What was done"), (_long("what_was_done"), _long("why_it_works"))),
    Task("context", _l("Where it works"), (_long("context"),)),
    Task(
        "implementation",
        _l("Implementation"),
        (_long("timescale"), _long("resources"), _long("barriers"), _long("lessons")),
    ),
    Task("cost", _l("Cost and funding"), (_long("cost"), _long("funding", required=False))),
    Task(
        "evaluation",
        _l("Evaluation and rating"),
        (
            Question("evaluated", _l("Has it been evaluated?"), "yesno"),
            _long("evaluation_method", required=False),
            _long("evaluation_findings", required=False),
            Question("rating", _l("How well did it work?"), "rating"),
        ),
    ),
    Task(
        "dates",
        _l("Dates"),
        (
            Question("started", _l("When did it start?"), "date", _l("For example, 3 2024")),
            Question(
                "ended",
                _l("When did it end?"),
                "date",
                _l("Leave this empty if it is still running"),
                False,
            ),
        ),
    ),
    Task(
        "contact",
        _l("Contact"),
        (
            Question(
                "contact_role",
                _l("Role to contact"),
                "line",
                _l("A job title, not a name, for example Community safety manager"),
            ),
            Question(
                "contact_consent", _l("I agree to be contacted about this case study"), "tick"
            ),
        ),
    ),
    Task("attachments", _l("Attachments (optional)")),
    Task(
        "declaration",
        _l("Declaration"),
        (
            Question(
                "declaration",
                _l("This case study holds no personal or operationally sensitive data"),
                "tick",
            ),
        ),
    ),
)
TASK_KEYS = {task.key: task for task in TASKS}
# Sections whose completion submitting needs (attachments are optional).
REQUIRED_TASKS = tuple(task.key for task in TASKS if task.questions)


def word_count(text: str) -> int:
    """Words as GOV.UK's character count counts them: runs of non-space characters."""
    return len(text.split())


def read_task(
    task: Task, form: MultiDict[str, str], *, complete: bool, csps: set[str]
) -> dict[str, Any]:
    """The answers of one section from its form: {name: value}.

    :raises FieldErrors: an answer is too long or malformed, or (when `complete`) missing.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in task.questions:
        try:
            values[question.name] = _read(question, form, csps)
        except ValueError as error:
            errors[question.name] = str(error)
            continue
        if complete and question.required and values[question.name] in ("", [], None, False):
            errors[question.name] = str(_missing(question))
    if complete and not errors:
        errors |= _cross_checks(task, values)
    if errors:
        raise FieldErrors(errors)
    return values


def _missing(question: Question) -> Any:
    if question.kind in ("themes", "crime_types"):
        return _l("Select at least one of the %(what)s", what=str(question.label).lower())
    if question.kind in ("nation", "yesno", "rating", "csp"):
        return _l("Select an answer to ‘%(label)s’", label=question.label)
    if question.kind == "tick":
        return _l("Tick the box to confirm: %(label)s", label=question.label)
    return _l("Enter an answer to ‘%(label)s’", label=question.label)


def _cross_checks(task: Task, values: dict[str, Any]) -> dict[str, str]:
    """Checks between the answers of one section."""
    errors: dict[str, str] = {}
    if task.key == "dates" and values.get("ended") and values.get("started"):
        if values["ended"] < values["started"]:
            errors["ended"] = str(_l("The end date must be the same as or after the start date"))
    if task.key == "evaluation" and values.get("evaluated") == "yes":
        for name in ("evaluation_method", "evaluation_findings"):
            if not values.get(name):
                errors[name] = str(_l("Enter an answer to ‘%(label)s’", label=_l(SECTIONS[name])))
    return errors


def _read(question: Question, form: MultiDict[str, str], csps: set[str]) -> Any:
    """One answer, read and checked for form and size; raises ValueError with the message."""
    kind, name = question.kind, question.name
    if kind in ("themes", "crime_types"):
        vocabulary = THEMES if kind == "themes" else CRIME_TYPES
        chosen = form.getlist(name)
        if any(code not in vocabulary for code in chosen):
            raise ValueError(_l("Select from the list"))
        return sorted(set(chosen))
    if kind == "date":
        return _read_date(question, form)
    if kind == "tick":
        return form.get(name) == "yes"
    raw = form.get(name, "")
    choices = _choices(kind, csps)
    if choices is not None:
        if raw and raw not in choices:
            raise ValueError(_l("Select from the list"))
        return raw
    return _read_text(question, raw)


def _choices(kind: str, csps: set[str]) -> set[str] | None:
    if kind == "nation":
        return set(NATIONS)
    if kind == "yesno":
        return {"yes", "no"}
    if kind == "rating":
        return {rating.value for rating in CaseStudyRating}
    if kind == "csp":
        return csps
    return None


def _read_text(question: Question, raw: str) -> str:
    text = raw.replace("\r\n", "\n").strip()
    limit = MAX_LINE if question.kind == "line" else question.max_length
    if len(text) > limit:
        most = format(limit, ",")
        raise ValueError(
            _l("%(label)s must be %(limit)s characters or fewer", label=question.label, limit=most)
        )
    if (NOT_ONE_LINE if question.kind == "line" else CONTROL).search(text):
        raise ValueError(_l("%(label)s must be plain text on one line", label=question.label))
    if question.kind == "words" and word_count(text) > SUMMARY_MAX_WORDS:
        raise ValueError(
            _l(
                "%(label)s must be %(limit)s words or fewer",
                label=question.label,
                limit=SUMMARY_MAX_WORDS,
            )
        )
    return text


def _read_date(question: Question, form: MultiDict[str, str]) -> date | None:
    """A GOV.UK date input of day (optional), month and year; the first of the month when no
    day is given."""
    day, month, year = (
        form.get(f"{question.name}-{part}", "").strip() for part in ("day", "month", "year")
    )
    if not (day or month or year):
        return None
    if not (month.isdigit() and year.isdigit() and len(year) == 4 and (not day or day.isdigit())):
        raise ValueError(
            _l("%(label)s must include a month and a year, like 3 2024", label=question.label)
        )
    try:
        found = date(int(year), int(month), int(day) if day else 1)
    except ValueError:
        raise ValueError(_l("%(label)s must be a real date", label=question.label)) from None
    if not 1950 <= found.year <= 2100:
        raise ValueError(_l("%(label)s must be a year between 1950 and 2100", label=question.label))
    return found


def rating_label(value: str) -> str:
    """The words of a rating's value."""
    for rating, label in RATINGS.items():
        if rating.value == value:
            return label
    return ""
