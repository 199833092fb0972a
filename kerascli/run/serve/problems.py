"""Bad requests as one line: where (`rows[2].sepal_width`), what was wrong, what was expected.

FastAPI reports a body that fails validation as a list of pydantic errors;
`/predict` answers 422 with all of them joined on one line (the first
`MAX_SHOWN`, then a count), with a did-you-mean for an unknown column.
"""

from __future__ import annotations

import difflib
import json

MAX_SHOWN = 5


def location(loc) -> str:
    """`('body', 'rows', 2, 'petal_width')` -> `rows[2].petal_width`."""
    parts = [p for p in loc if p != "body"]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def describe(error: dict, columns: list[str]) -> str:
    """One pydantic error as `where: what`."""
    where = location(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        hint = difflib.get_close_matches(name, columns, n=1)
        return f"{where}: unknown column" + (
            f" (did you mean '{hint[0]}'?)" if hint else f"; the columns are: {', '.join(columns)}"
        )
    if kind == "missing":
        return f"{where}: missing" + (f"; a row needs: {', '.join(columns)}" if where.count(".") == 1 else "")
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx", {})
        bound = f"at least {ctx.get('min_length')}" if kind == "too_short" else f"at most {ctx.get('max_length')}"
        hint = " (--max-rows)" if where == "rows" and kind == "too_long" else ""
        return f"{where}: {ctx.get('actual_length')} items, expected {bound}{hint}"
    if kind == "json_invalid":
        return f"body: invalid JSON ({error.get('ctx', {}).get('error', 'unreadable')})"
    message = error["msg"][:1].lower() + error["msg"][1:]
    received = json.dumps(error.get("input"), default=str)
    received = received if len(received) <= 40 else received[:37] + "..."
    return f"{where}: {message}, got {received}"


def summarize(errors: list[dict], columns: list[str]) -> str:
    """All validation errors on one line."""
    shown = "; ".join(describe(error, columns) for error in errors[:MAX_SHOWN])
    more = len(errors) - MAX_SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")
