"""Is the explanation telling the truth? Faithfulness and localisation metrics.

- :func:`deletion` / :func:`insertion`: curves and AUC of the class probability as the hottest
  pixels are removed / revealed first (RISE).
- :func:`pointing_game`, :func:`energy_in_box`, :func:`mean_heat_in_box`: does the heat sit
  on a known object?
- :func:`randomization_check`: does the map change when the model's weights are randomised?
- :func:`average_drop` / :func:`average_increase` (:func:`confidence_change` per image): does
  the image times the map keep the class's confidence (Grad-CAM++)?
- :func:`sparseness` / :func:`complexity`: the Gini index and the entropy of a map.
- :func:`mufidelity` / :func:`infidelity`: does the map predict what random perturbations
  cost the model?
- :func:`road`: deletion with the removed pixels imputed from their neighbours (ROAD).
- :func:`random_logit` / :func:`max_sensitivity`: does the map change with the class, and
  stay put under small noise?

All take Explanations from any method, so methods can be compared on your own data. May
import the data layer, the inputs and the explainer (to re-run the model); never the
formatters or the pipeline.

>>> from explainimg import metrics
>>> sorted(name for name in metrics.__all__ if not name[0].isupper())[:3]
['auc', 'average_drop', 'average_increase']
"""

from .concentration import complexity, sparseness
from .confidence import ConfidenceChange, average_drop, average_increase, confidence_change
from .curves import Curve, auc, deletion, insertion
from .fidelity import infidelity, mufidelity
from .localization import energy_in_box, mean_heat_in_box, pointing_game
from .randomization import (
    RandomizationResult,
    pearson,
    randomization_check,
    randomized_copy,
    spearman,
)
from .remove_and_debias import impute, road
from .robustness import RandomLogitResult, max_sensitivity, random_logit

__all__ = [
    "ConfidenceChange",
    "Curve",
    "RandomLogitResult",
    "RandomizationResult",
    "auc",
    "average_drop",
    "average_increase",
    "complexity",
    "confidence_change",
    "deletion",
    "energy_in_box",
    "impute",
    "infidelity",
    "insertion",
    "max_sensitivity",
    "mean_heat_in_box",
    "mufidelity",
    "pearson",
    "pointing_game",
    "random_logit",
    "randomization_check",
    "randomized_copy",
    "road",
    "sparseness",
    "spearman",
]
