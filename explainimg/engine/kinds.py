"""What kind of model is this? Answered once, by a registry of kinds, each with the resolver
that works out its :class:`~explainimg.engine.anatomy.Anatomy`.

A kind is a name, a test that recognises its models and a resolver from the model and the
user's :class:`~explainimg.engine.anatomy.Choices` to the Anatomy. The first kind whose test
passes is the model's kind; nothing downstream asks again. New tasks (detectors, image-text
models, segmenters) register a kind ahead of the generic ones, as ELI5's
``explain_prediction.register`` adds a type:

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv")])
>>> kind_of(model).name, [kind.name for kind in KINDS]
('graph', ['decoded', 'detector', 'function', 'graph', 'subclassed'])
>>> dissect(model, layer=None).target.path
'conv'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import keras

from ..errors import bad_argument, said
from .anatomy import Anatomy, Choices
from .detections import is_object_detector
from .graph import check_model, is_graph_model
from .kind_decoded import decoded_anatomy, is_decoded
from .kind_detector import detector_anatomy
from .kind_function import function_anatomy, is_function_model
from .kind_graph import graph_anatomy
from .kind_subclassed import subclassed_anatomy

Resolver = Callable[[keras.Model, Choices], Anatomy]


@attrs.frozen
class ModelKind:
    """A kind of model: its ``name``, the test that ``recognises`` it (from the model and
    the user's :class:`~explainimg.engine.anatomy.Choices`), and its ``resolve``r."""

    name: str
    recognises: Callable[[keras.Model, Choices], bool]
    resolve: Resolver


def _by_model(test: Callable[[keras.Model], bool]) -> Callable[[keras.Model, Choices], bool]:
    """A kind's test that reads the model only."""
    return lambda model, choices: test(model)


def _decoded(model: keras.Model, choices: Choices) -> Anatomy:
    """A model given with ``decode=``: resolved by the kind it has without it, then read as
    a detector (:mod:`explainimg.engine.kind_decoded`)."""
    plain = kind_of(model, attrs.evolve(choices, decode=None))
    return decoded_anatomy(model, choices, plain.resolve, from_graph=plain.name == "graph")


KINDS: list[ModelKind] = [
    ModelKind("decoded", is_decoded, _decoded),
    ModelKind("detector", _by_model(is_object_detector), detector_anatomy),
    ModelKind("function", _by_model(is_function_model), function_anatomy),
    ModelKind("graph", _by_model(is_graph_model), graph_anatomy),
    ModelKind("subclassed", lambda model, choices: True, subclassed_anatomy),
]
"""The kinds in the order they are tried; the last one takes every other Keras model."""


def register_kind(
    name: str, recognises: Callable[[keras.Model], bool], *, before: str = "function"
) -> Callable[[Resolver], Resolver]:
    """Decorator: make the decorated resolver explain the models that ``recognises`` accepts,
    tried before kind ``before`` (the most specific built-in kind, by default).

    >>> @register_kind("tiny", lambda model: model.name == "tiny")
    ... def tiny_anatomy(model, choices):
    ...     return graph_anatomy(model, choices)
    >>> tiny = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(2, 3)], name="tiny")
    >>> kind_of(tiny).name, dissect(tiny, layer=None).kind
    ('tiny', 'tiny')
    >>> unregister_kind("tiny")
    """

    def decorator(resolve: Resolver) -> Resolver:
        if any(kind.name == name for kind in KINDS):
            raise bad_argument("name", "a new kind name", said(f"{name!r}, already registered"))
        position = next(i for i, kind in enumerate(KINDS) if kind.name == before)
        KINDS.insert(position, ModelKind(name, _by_model(recognises), resolve))
        return resolve

    return decorator


def unregister_kind(name: str) -> None:
    """Remove kind ``name`` registered by :func:`register_kind`."""
    KINDS[:] = [kind for kind in KINDS if kind.name != name]


def kind_of(model: keras.Model, choices: Choices | None = None) -> ModelKind:
    """The first registered kind that recognises ``model`` (with the user's ``choices``: a
    ``decode=`` function makes any model a detector)."""
    chosen = Choices() if choices is None else choices
    return next(kind for kind in KINDS if kind.recognises(model, chosen))


def dissect(model: Any, *, layer: Any, **choices: Any) -> Anatomy:
    """Check ``model``, decide its kind once and let that kind's resolver work out the
    Anatomy for the user's choices (the fields of
    :class:`~explainimg.engine.anatomy.Choices`)."""
    model = check_model(model, functions_too=True)
    chosen = Choices(layer=layer, **choices)
    kind = kind_of(model, chosen)
    return attrs.evolve(kind.resolve(model, chosen), kind=kind.name)
