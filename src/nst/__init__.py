"""nst: neural style transfer (Gatys, Ecker and Bethge 2015), fast and offline.

The public API::

    import nst
    picture = nst.stylize("photo.jpg", "painting.jpg", nst.StyleConfig(size=256))
"""

from nst.config import StyleConfig
from nst.errors import InputError, NSTError, ResourceError, WeightsError
from nst.features import LAYER_NAMES, VGG19Features
from nst.image import load_image, read_metadata, save_image
from nst.memory import estimate_memory
from nst.objective import LossBreakdown
from nst.optimise import Progress
from nst.transfer import Interrupted, StyleResult, build_extractor, stylize, transfer_style
from nst.weights import load_weights

__version__ = "0.1.0"

__all__ = [
    "LAYER_NAMES",
    "InputError",
    "Interrupted",
    "LossBreakdown",
    "NSTError",
    "Progress",
    "ResourceError",
    "StyleConfig",
    "StyleResult",
    "VGG19Features",
    "WeightsError",
    "__version__",
    "build_extractor",
    "estimate_memory",
    "load_image",
    "load_weights",
    "read_metadata",
    "save_image",
    "stylize",
    "transfer_style",
]
