"""Reading answers: each reader takes one form of answer, accepts harmless variants and says
precisely what was wrong otherwise. Judges use these; so does ``evaluate`` to tell "not done"."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from .registry import Verdict

PLACEHOLDERS = frozenset({"?", "...", "…"})


def is_placeholder(value: Any) -> bool:
    """None, Ellipsis, blank text or a stub's "?": nothing filled in yet."""
    if value is None or value is Ellipsis:
        return True
    return isinstance(value, str) and (not value.strip() or value.strip() in PLACEHOLDERS)


def is_unanswered(answer: Any) -> bool:
    """No answer yet: a placeholder, or a stub dict whose values are all still placeholders."""
    if is_placeholder(answer):
        return True
    return isinstance(answer, dict) and bool(answer) and all(is_placeholder(v) for v in answer.values())


# ``*_answer`` readers return ``(value, None)`` or ``(None, Verdict)``: a judge returns the
# verdict when there is one.


def fold(text: Any) -> str:
    """Text compared the forgiving way: case folded, outer spaces gone, inner runs of spaces as one."""
    return " ".join(str(text).split()).casefold()


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return False
    return True


def as_number(answer: Any) -> float | None:
    """A finite int or float (NumPy's too); text ("400") and True/False are not numbers."""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


def number_answer(answer: Any, *, unit: str = "", whole: bool = False) -> tuple[float | None, Verdict | None]:
    """Read a number; text that spells one gets "give the number itself", not a pass."""
    what = ("a whole number" if whole else "a number") + (f" in {unit}" if unit else "")
    if isinstance(answer, str) and _looks_numeric(answer.strip()):
        return None, Verdict.no(
            f"{answer!r} is text (in quotes). Give {what} itself, without quotes: {answer.strip()}."
        )
    if isinstance(answer, bool):
        return None, Verdict.no(f"{answer} is True/False, not a number. Expected {what}.")
    value = as_number(answer)
    if value is None:
        if isinstance(answer, (int, float)):
            return None, Verdict.no(f"{answer} is not a finite number. Expected {what}.")
        return None, Verdict.no(f"Expected {what}, got {type(answer).__name__} {_short(answer)}.")
    if whole and value != int(value):
        return None, Verdict.no(f"{value:g} is not a whole number. Expected {what}.")
    return value, None


def choice_answer(
    answer: Any, options: dict[str, str] | list[str] | tuple[str, ...], *, what: str = "answer"
) -> tuple[str | None, Verdict | None]:
    """Read one word out of ``options`` (a list, or {spelling: canonical}); any case, any outer spaces."""
    mapping = {fold(k): v for k, v in (options.items() if isinstance(options, dict) else ((o, o) for o in options))}
    shown = " or ".join(repr(v) for v in dict.fromkeys(mapping.values()))
    if not isinstance(answer, str):
        return None, Verdict.no(f"Expected text for the {what}: {shown} (in quotes), got {type(answer).__name__}.")
    found = mapping.get(fold(answer))
    if found is None:
        return None, Verdict.no(f"{answer!r} is not one of the choices for the {what}: answer {shown}.")
    return found, None


def mapping_answer(
    answer: Any,
    keys: list[str] | tuple[str, ...],
    *,
    canonical: Callable[[Any], str | None] | None = None,
    what: str = "key",
) -> tuple[dict[str, Any] | None, Verdict | None]:
    """Read a dict with exactly ``keys`` (any case and outer spaces; ``canonical`` maps other spellings).

    Returns ``{key as listed: value}``; the verdict names missing, unknown and doubled keys.
    """
    listed = ", ".join(repr(k) for k in keys)
    if not isinstance(answer, dict):
        return None, Verdict.no(
            f"Expected a dict with the keys {listed} (the stub in the cell has this shape), "
            f"got {type(answer).__name__}."
        )
    by_fold = {fold(k): k for k in keys}
    found: dict[str, Any] = {}
    unknown, doubled = [], []
    for key, value in answer.items():
        name = (canonical(key) if canonical else None) or by_fold.get(fold(key))
        if name is None:
            unknown.append(repr(key))
        elif name in found:
            doubled.append(name)
        else:
            found[name] = value
    missing = [k for k in keys if k not in found]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(repr(k) for k in missing)}")
    if unknown:
        problems.append(f"unknown {what}{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    if doubled:
        problems.append(f"{', '.join(repr(k) for k in doubled)} given twice")
    if problems:
        return None, Verdict.no(
            f"The dict's keys are not right: {'; '.join(problems)}. Use exactly these keys: {listed}."
        )
    return found, None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def within(answer: Any, expected: float, rel: float, *, unit: str = "") -> Verdict:
    """Full marks within ``rel`` (relative) of ``expected``; the message states the tolerance."""
    value, problem = number_answer(answer, unit=unit)
    if problem is not None:
        return problem
    assert value is not None, "number_answer gives a value whenever it gives no problem"
    tol = abs(expected) * rel
    if abs(value - expected) <= tol:
        return Verdict.ok(f"{value:g} {unit} is within {rel:.0%} of the expected value.".replace("  ", " "))
    direction = "high" if value > expected else "low"
    return Verdict.no(
        f"{value:g} {unit} is too {direction}: this check accepts within {rel:.0%} of the expected value.".replace(
            "  ", " "
        )
    )


def order_verdict(answer: Any, steps: list[str], before: tuple[tuple[str, str, str], ...], ok: str) -> Verdict:
    """Judge an order of ``steps`` (a list of their names, any case): each ``(first, then, why)`` of ``before``
    must hold; the first one broken is said with its reason."""
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer):
        return Verdict.no(f"Answer with a list of the {len(steps)} names in `steps` (each a str), first one first.")
    by_fold = {fold(s): s for s in steps}
    named = [by_fold.get(fold(a)) for a in answer]
    if None in named or sorted(map(str, named)) != sorted(steps):
        return Verdict.no(f"Each of the {len(steps)} names in `steps` once: {', '.join(steps)}.")
    broken = [why for first, then, why in before if named.index(first) > named.index(then)]
    if broken:
        return Verdict.no(f"That order leaves something behind: {broken[0]}.")
    return Verdict.ok(ok)


def sentence(parts: list[str]) -> str:
    """Feedback pieces joined as one sentence: capitalised, separated by semicolons, with a full stop."""
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def rendered_chart(chart: str, values: Any, release: str) -> tuple[list[dict], dict, Verdict | None]:
    """Render the course's chart ``chart`` (data/charts/<chart>) with ``values`` by the real helm:
    (every object, its Deployment, None), or a verdict naming what the schema refused."""
    from ..deploy import charts
    from ..paths import data_dir

    if not isinstance(values, dict):
        return [], {}, Verdict.no(f"Answer with a dict of the {chart} chart's values; got {type(values).__name__}.")
    try:
        rendered = charts.render(data_dir() / "charts" / chart, values, release=release, namespace="check")
    except charts.ValuesError as exc:
        return [], {}, Verdict.no(f"The chart's schema refuses these values: {exc}")
    deployment = next((o for o in rendered if o.get("kind") == "Deployment"), None)
    if deployment is None:
        return (
            rendered,
            {},
            Verdict.no("These values render no Deployment: keep the chart's defaults for what you do not set."),
        )
    return rendered, deployment, None
