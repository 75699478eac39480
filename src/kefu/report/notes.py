"""Which assumed parameters shape a figure, for the report's footnotes and starred rule IDs.

A parameter marked ``assumed`` in the profile (RULES.md: T1, P3, S3, S4, F1, C2, C3) is one
the platform does not publish. Wherever such a parameter shapes a figure, the report shows
the rule ID with a star and a footnote naming the value. A parameter that the profile does
not use (``consultation_gap_s`` unless consultations split on gaps, ``max_rating_changes``
unless ratings dedupe by same-day change) shapes nothing and is not footnoted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kefu.metrics import registry
from kefu.rules.profile import Param, Profile

#: Parameters that only matter under another parameter's setting.
IN_EFFECT: dict[str, Callable[[Profile], bool]] = {
    "consultation_gap_s": lambda p: p["consultation_split"] == "gap",
    "max_rating_changes": lambda p: p["rating_dedupe"] == "same_day_change",
}

#: The parameters that shape each part of the report: each figure's from the registry,
#: and the parts that are not one figure.
SHAPES: dict[str, tuple[str, ...]] = {
    **{f.name: f.params for f in registry.FIGURES.values() if f.params},
    "window": ("timezone", "window_days", "history_days"),
    "days_hours": ("timezone",),
    "agents": (
        "consultation_split", "consultation_gap_s", "max_ratings_per_buyer", "min_ratings",
    ),
}  # fmt: skip


def in_effect(profile: Profile, name: str) -> bool:
    check = IN_EFFECT.get(name)
    return name in profile.params and (check is None or check(profile))


def assumed_params(profile: Profile, names: Iterable[str]) -> list[Param]:
    """The assumed parameters among ``names`` that this profile actually uses."""
    seen: list[Param] = []
    for name in names:
        if in_effect(profile, name) and profile.params[name].assumed:
            param = profile.params[name]
            if param not in seen:
                seen.append(param)
    return seen


def all_assumed(profile: Profile) -> list[Param]:
    """Every assumed parameter in effect, ordered by rule ID then name."""
    params = [p for p in profile.params.values() if p.assumed and in_effect(profile, p.name)]
    return sorted(params, key=lambda p: (p.rule, p.name))


def assumed_rules(profile: Profile) -> set[str]:
    """Rule IDs carried by an assumed parameter in effect (shown with a star)."""
    return {p.rule for p in all_assumed(profile)}


def rule_list(rules: Iterable[str], profile: Profile) -> str:
    """``"P3*, P5"``: the rule IDs, starred where an assumed parameter carries the rule."""
    starred = assumed_rules(profile)
    return ", ".join(f"{r}*" if r in starred else r for r in rules)
