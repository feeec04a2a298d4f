"""Reading an uploaded digit: 64 grey levels (an 8x8 image, 0 = white .. 16 = black).

The api and the model service read uploads with the same rules, so a digit the api accepts is
one the model accepts. Every error says what is wrong with the input, so the caller can fix it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

SIDE = 8
COUNT = SIDE * SIDE
MAX_LEVEL = 16.0


class BadPixels(ValueError):
    """The upload is not 64 grey levels between 0 and 16 (the message says which rule failed)."""


def check_pixels(values: Any) -> list[float]:
    """The 64 pixels as floats, or :class:`BadPixels` naming the first problem."""
    if not isinstance(values, list):
        raise BadPixels(f'"pixels" must be a list of {COUNT} numbers, got {type(values).__name__}.')
    if len(values) != COUNT:
        raise BadPixels(f'"pixels" must have {COUNT} numbers (an {SIDE}x{SIDE} image), got {len(values)}.')
    pixels = []
    for i, value in enumerate(values):
        # bool is a subclass of int in Python: true/false are not grey levels
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadPixels(f"pixel {i} is not a number: {value!r}.")
        if not math.isfinite(value):
            raise BadPixels(f"pixel {i} is {value}: each pixel must be a finite number.")
        if not 0 <= value <= MAX_LEVEL:
            raise BadPixels(f"pixel {i} is {value}: each pixel must be between 0 and {MAX_LEVEL:g}.")
        pixels.append(float(value))
    return pixels


def pixels_from_json(body: bytes) -> list[float]:
    """``{"pixels": [64 numbers]}``"""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPixels(f"the body is not valid JSON ({exc}).") from None
    if not isinstance(document, dict) or "pixels" not in document:
        raise BadPixels('the JSON body must be an object with a "pixels" key: {"pixels": [64 numbers]}.')
    return check_pixels(document["pixels"])


def pixels_from_csv(body: bytes) -> list[float]:
    """64 numbers separated by commas, spaces or new lines (8 rows of 8 reads naturally)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPixels("the CSV body is not UTF-8 text.") from None
    values: list[Any] = []
    for i, field in enumerate(cell for cell in re.split(r"[,\s]+", text.strip()) if cell):
        try:
            values.append(float(field))
        except ValueError:
            raise BadPixels(f"pixel {i} is not a number: {field!r}.") from None
    return check_pixels(values)
