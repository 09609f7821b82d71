"""dlfs-zoo: the models of *Deep Learning from Scratch*, chapter 7, as a ranked model hub.

    import zoo
    model = zoo.load("mnist-convnet-book")      # the copy shipped in this package, a folder, or the HF Hub
    zoo.leaderboard("digits")                   # ranked rows from the cards' model-index

Imports only torch, safetensors, huggingface_hub and numpy; torch only when it is needed. The names that are the
architectures (``PyTorchModel``, ``zoo.MNISTConvNet``, ...) are imported on first use
(PEP 562's module ``__getattr__``, as torchvision and transformers do), so ``python -m zoo list`` and ``leaderboard``
never import torch; tests/test_imports.py holds that.

Loading is built in layers, each importing only those below it (``tests/test_import_cycles.py`` holds them):

    basics, catalog, models what every layer shares (file names, constants; no torch); what the zoo holds (plain
                            data, no torch); the architectures (torch)
    config, checkpoint_io   config.json's schema; a checkpoint folder read and written (temp folder, then rename);
                            both import the architectures only inside the functions that build or check a model
    hub, submissions        the HF Hub (download, push); the gates, the results store, the evaluation queue (the
                            store is read without torch: the copy checks and the evaluation import it themselves)
    sources                 which checkpoint a name means: ``load``
    leaderboard             typed rows (``Row``) ranked per task, the zoo's beside the finished submissions
    __main__                ``python -m zoo`` (the app in demos/ and hubconf.py sit on top as well)
"""

from __future__ import annotations

from typing import Any

from .catalog import ENTRIES, TASKS, Entry, Recipe, UnknownModelError, validate_name
from .checkpoint_io import load_folder, save_checkpoint
from .config import ConfigError
from .leaderboard import leaderboard  # torch-free; imported here so that ``zoo.leaderboard`` is the function
from .sources import list_models, load

__version__ = "0.1.0"

# zoo.models' names, imported on first use (zoo.models imports torch)
_LAZY = {
    "ARCHITECTURES",
    "PyTorchModel",
    "WeightsIntegrityError",
    "DigitsModel",
    "HousesModel",
    "LatentModel",
    "TextModel",
}
# every registered architecture (zoo.MNISTConvNet, zoo.CharTransformer, ...): each has an entry (tests/test_registry.py)
_ARCHITECTURE_NAMES = sorted({e.architecture for e in ENTRIES.values()})

__all__ = [
    "ENTRIES",
    "TASKS",
    "Entry",
    "Recipe",
    "UnknownModelError",
    "validate_name",
    "ConfigError",
    "list_models",
    "load",
    "load_folder",
    "save_checkpoint",
    "leaderboard",
    "DigitsModel",
    "HousesModel",
    "LatentModel",
    "PyTorchModel",
    "TextModel",
    "WeightsIntegrityError",
    *_ARCHITECTURE_NAMES,
]


def __getattr__(name: str) -> Any:
    """The names that need torch, imported the first time one is asked for (then kept as plain attributes)."""
    if name in _LAZY or name in _ARCHITECTURE_NAMES:
        from . import models

        value = models.ARCHITECTURES[name] if name in _ARCHITECTURE_NAMES else getattr(models, name)
    else:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
