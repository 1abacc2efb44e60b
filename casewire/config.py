"""Loading configuration: one YAML file per process with ``${VAR:default}`` interpolation.

nameko services get the same interpolation from ``nameko run --config``; the gateway and the
command line tools use :func:`load_config`. Nothing here runs at import time.
"""

import os
import re
from pathlib import Path
from typing import Any

import yaml

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


def interpolate(text: str, environ: dict | None = None) -> str:
    """Replace ``${VAR}`` and ``${VAR:default}`` with values from the environment."""
    environ = os.environ if environ is None else environ

    def replace(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is None:
            raise KeyError(f"configuration needs the environment variable {name}")
        return default

    return _ENV_PATTERN.sub(replace, text)


def load_config(path: str | Path, environ: dict | None = None) -> dict[str, Any]:
    """Read a YAML config file, interpolating environment variables first."""
    return yaml.safe_load(interpolate(Path(path).read_text(), environ)) or {}
