"""``config.json``: what a checkpoint's config may hold, checked before anything is built from it.

A config names its architecture and holds that class's ``__init__`` arguments, plus four meta keys (``name``,
``task``, ``architecture``, ``weights_sha256``). ``validate_config`` checks every key against the signature, so an
error names the key; ``read_config`` reads the file (and migrates keys renamed since it was written).
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .basics import CONFIG_NAME

if TYPE_CHECKING:
    from .models import PyTorchModel

META_KEYS = {"architecture": str, "name": str, "task": str, "weights_sha256": str}
NUMBER_LIMIT = 1e6  # every float a submission states (config values, card metrics) lies within +-this


class ConfigError(ValueError):
    """``config.json`` is missing, unreadable, or does not describe a zoo architecture."""


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is typing.Any:
        return True
    base = origin or annotation
    if base is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if base is list:
        args = typing.get_args(annotation)
        return isinstance(value, list) and (not args or all(_type_ok(v, args[0]) for v in value))
    return isinstance(value, base)


def validate_config(config: Any, where: str = "config.json") -> type[PyTorchModel]:
    """Check a config against its architecture's ``__init__``; returns the class. Errors name the key."""
    from .models import ARCHITECTURES  # torch, only where a config is checked (the JSON helpers below need none)

    if not isinstance(config, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(config).__name__}")
    arch = config.get("architecture")
    if arch is None:
        raise ConfigError(f"{where}: missing key 'architecture' (one of {', '.join(ARCHITECTURES)})")
    if arch not in ARCHITECTURES:
        raise ConfigError(f"{where}: unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    cls = ARCHITECTURES[arch]
    hints = typing.get_type_hints(cls.__init__)
    params = {k: v for k, v in cls._hub_mixin_init_parameters.items() if k != "self"}
    for key, value in config.items():
        if key in META_KEYS:
            if not isinstance(value, META_KEYS[key]):
                raise ConfigError(f"{where}: key {key!r} must be a {META_KEYS[key].__name__}, got {value!r}")
        elif key not in params:
            raise ConfigError(f"{where}: unknown key {key!r} for {arch}; allowed: {', '.join(params)}")
        elif key in hints and not _type_ok(value, hints[key]):
            raise ConfigError(f"{where}: key {key!r} must be {hints[key]}, got {value!r}")
    for key, p in params.items():
        if p.default is p.empty and key not in config:
            raise ConfigError(f"{where}: missing key {key!r} required by {arch}")
    return cls


def read_config(folder: Path) -> dict[str, Any]:
    """A checkpoint folder's ``config.json``, with renamed keys migrated (not yet validated)."""
    from .models import migrate_config

    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"{folder} is not a checkpoint: it has no {CONFIG_NAME}")
    try:
        return migrate_config(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from e


# ------------------------------------------------------------------------------------ strict JSON
def numbers(value: Any, where: str = "") -> Iterator[tuple[str, int | float]]:
    """Every number inside nested dicts and lists, with where it is (``normalize.mean[0]``); iterative, so a
    deeply nested value cannot exhaust the stack."""
    todo = [(where, value)]
    while todo:
        here, v = todo.pop()
        if isinstance(v, dict):
            todo += [(f"{here}.{k}" if here else str(k), x) for k, x in reversed(list(v.items()))]
        elif isinstance(v, list | tuple):
            todo += [(f"{here}[{i}]", x) for i, x in reversed(list(enumerate(v)))]
        elif isinstance(v, int | float) and not isinstance(v, bool):
            yield here, v


def show_number(value: float) -> str:
    """A number as a person reads it (NaN, Infinity, 1e+300)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return f"{value:g}"


def first_non_finite(value: Any, where: str = "") -> tuple[str, float] | None:
    """The first NaN or infinite number inside ``value`` and where it is; None when every number is finite."""
    return next(((k, v) for k, v in numbers(value, where) if isinstance(v, float) and not math.isfinite(v)), None)


def strict_dumps(value: Any, **kwargs: Any) -> str:
    """JSON that every parser reads: NaN and infinities are refused (``ValueError`` naming where one is)."""
    if bad := first_non_finite(value):
        raise ValueError(f"{bad[0] or 'the value'} is {show_number(bad[1])}; JSON holds only finite numbers")
    return json.dumps(value, allow_nan=False, **kwargs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def strict_loads(text: str | bytes) -> Any:
    """JSON as strict parsers (JavaScript's ``JSON.parse``, Go, jq) read it: NaN and Infinity are refused."""
    return json.loads(text, parse_constant=_no_constant)
