"""The words effective practice is described and found by: themes, crime types, ratings and
the sections of a case study's long answers."""

from __future__ import annotations

from mailer.models.states import CaseStudyRating

# What the practice is about: the community safety priorities CSPs report on.
THEMES: dict[str, str] = {
    "anti-social-behaviour": "Anti-social behaviour",
    "domestic-abuse": "Domestic abuse",
    "violence-against-women-and-girls": "Violence against women and girls",
    "serious-violence": "Serious violence",
    "drugs-and-alcohol": "Drugs and alcohol",
    "reducing-reoffending": "Reducing reoffending",
    "exploitation": "Exploitation and county lines",
    "hate-crime": "Hate crime",
    "neighbourhood-crime": "Neighbourhood crime",
    "prevent": "Prevent and counter-extremism",
    "modern-slavery": "Modern slavery",
    "fraud-and-cyber-crime": "Fraud and cyber crime",
    "youth-crime": "Young people and crime prevention",
    "community-cohesion": "Community cohesion",
}

# The crime categories of police.uk's open data (Open Government Licence).
CRIME_TYPES: dict[str, str] = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "other-crime": "Other crime",
}

VOCABULARIES: dict[str, dict[str, str]] = {"theme": THEMES, "crime_type": CRIME_TYPES}

RATINGS: dict[CaseStudyRating, str] = {
    CaseStudyRating.WORKED: "Worked",
    CaseStudyRating.PROMISING: "Promising",
    CaseStudyRating.UNTESTED: "Untested",
    CaseStudyRating.DID_NOT_WORK: "Did not work",
}

# The long answers of a case study, in the order of its page, with their headings.
SECTIONS: dict[str, str] = {
    "problem": "The problem",
    "data_used": "The data used",
    "what_was_done": "What was done",
    "why_it_works": "Why it should work",
    "context": "Where it works",
    "timescale": "Timescale",
    "resources": "Resources",
    "barriers": "Barriers",
    "lessons": "Lessons learned",
    "cost": "Cost",
    "funding": "Funding",
    "evaluation_method": "How it was evaluated",
    "evaluation_findings": "What the evaluation found",
}

SUMMARY_MAX_WORDS = 400


def search_text(
    title: str, summary: str, answers: dict[str, str], tags: list[tuple[str, str]], *extra: str
) -> str:
    """One text of everything a case study says, for the full-text search: title, summary,
    the answers in page order, the labels of its tags (vocabulary, code) and `extra` (partners,
    area, the CSP's name)."""
    labels = [VOCABULARIES.get(vocabulary, {}).get(code, "") for vocabulary, code in tags]
    parts = [title, summary, *(str(answers.get(key, "")) for key in SECTIONS), *labels, *extra]
    return "\n".join(part.strip() for part in parts if part and part.strip())
