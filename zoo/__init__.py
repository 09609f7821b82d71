"""dlfs-zoo: the models of *Deep Learning from Scratch*, chapter 7, as a ranked model hub.

    import zoo
    model = zoo.load("mnist-convnet-book")      # the copy shipped in this package, a folder, or the HF Hub
    zoo.leaderboard("digits")                   # ranked rows from the cards' model-index

Imports only torch, safetensors, huggingface_hub and numpy.
"""

from .catalog import ENTRIES, TASKS, Entry, Recipe, UnknownModelError, validate_name
from .hub import ConfigError, list_models, load, load_folder, save_checkpoint
from .leaderboard import leaderboard
from .models import (
    ARCHITECTURES,
    DigitsModel,
    HousesModel,
    LatentModel,
    PyTorchModel,
    TextModel,
    WeightsIntegrityError,
)

# every registered architecture (zoo.MNISTConvNet, zoo.CharTransformer, ...): the registry is the list
globals().update(ARCHITECTURES)

__version__ = "0.1.0"
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
    *ARCHITECTURES,
]
