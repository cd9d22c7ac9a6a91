"""Is the explanation telling the truth? Faithfulness and localisation metrics.

- :func:`deletion` / :func:`insertion`: curves and AUC of the class probability as the hottest
  pixels are removed / revealed first (RISE).
- :func:`pointing_game`, :func:`energy_in_box`, :func:`mean_heat_in_box`: does the heat sit
  on a known object?
- :func:`randomization_check`: does the map change when the model's weights are randomised?

All take Explanations from any method, so methods can be compared on your own data. May
import the data layer, the inputs and the explainer (to re-run the model); never the
formatters or the pipeline.

>>> from explainimg import metrics
>>> sorted(name for name in metrics.__all__ if not name[0].isupper())[:3]
['auc', 'deletion', 'energy_in_box']
"""

from .curves import Curve, auc, deletion, insertion
from .localization import energy_in_box, mean_heat_in_box, pointing_game
from .randomization import RandomizationResult, randomization_check, randomized_copy, spearman

__all__ = [
    "Curve",
    "RandomizationResult",
    "auc",
    "deletion",
    "energy_in_box",
    "insertion",
    "mean_heat_in_box",
    "pointing_game",
    "randomization_check",
    "randomized_copy",
    "spearman",
]
