"""The architectures a ``config.json`` may name. Each class registers itself with ``@architecture`` where it is
defined (timm's ``@register_model``), so the registry is the list: a new architecture is loadable, exported by
``zoo`` and tested the moment it is declared, with no second list to keep in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from .base import PyTorchModel

M = TypeVar("M", bound=type[PyTorchModel])

_REGISTRY: dict[str, type[PyTorchModel]] = {}
# name -> class, in the order the families declare them; read-only: ``@architecture`` is the only way in
ARCHITECTURES: Mapping[str, type[PyTorchModel]] = MappingProxyType(_REGISTRY)


def architecture(cls: M) -> M:
    """Register a model class under its name, the ``architecture`` its ``config.json`` records."""
    if not (isinstance(cls, type) and issubclass(cls, PyTorchModel)):
        raise TypeError(f"@architecture registers PyTorchModel subclasses, got {cls!r}")
    if not cls.task:
        raise TypeError(f"{cls.__name__} has no task: an architecture serves one task (houses, digits, ...)")
    if _REGISTRY.setdefault(cls.__name__, cls) is not cls:
        raise ValueError(f"architecture {cls.__name__!r} is already registered by {_REGISTRY[cls.__name__]}")
    return cls


def resolve(name: str) -> type[PyTorchModel]:
    """The class a config's ``architecture`` names, or an error that lists the names allowed."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(_REGISTRY)}") from None
