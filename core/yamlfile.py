"""Reading operator-edited YAML files with errors that point at the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError, IocwatchError


def read_yaml(path: Path, *, what: str = "YAML syntax error", error: type[IocwatchError] = ConfigError,
              hint: str | None = None) -> Any:
    """Parse ``path`` (an empty file gives ``{}``); a syntax error raises ``error`` at ``file:line``."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{what}: {getattr(exc, 'problem', None) or exc}", where=where, hint=hint) from None
