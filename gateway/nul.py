"""Text no Casewire record may hold: a NUL character, in the query or anywhere in a JSON body."""

from flask import request


def nul_text() -> str | None:
    """Where the query or JSON body holds a NUL character, which no Casewire record may store (a
    document store may refuse it, and no detection system sends one on purpose)."""
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "query"
    if request.is_json:
        stack = [("body", request.get_json(silent=True))]
        while stack:
            path, value = stack.pop()
            if isinstance(value, str) and "\x00" in value:
                return path
            if isinstance(value, dict):
                stack += [(f"{path}.{k}", v) for k, v in value.items()] + [(path, k) for k in value]
            elif isinstance(value, list):
                stack += [(f"{path}.{i}", v) for i, v in enumerate(value)]
    return None
