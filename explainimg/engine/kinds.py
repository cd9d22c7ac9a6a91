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
('graph', ['detector', 'function', 'graph', 'subclassed'])
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
from .kind_detector import detector_anatomy
from .kind_function import function_anatomy, is_function_model
from .kind_graph import graph_anatomy
from .kind_subclassed import subclassed_anatomy

Resolver = Callable[[keras.Model, Choices], Anatomy]


@attrs.frozen
class ModelKind:
    """A kind of model: its ``name``, the test that ``recognises`` it, and its ``resolve``r."""

    name: str
    recognises: Callable[[keras.Model], bool]
    resolve: Resolver


def _any_model(model: keras.Model) -> bool:
    return True


KINDS: list[ModelKind] = [
    ModelKind("detector", is_object_detector, detector_anatomy),
    ModelKind("function", is_function_model, function_anatomy),
    ModelKind("graph", is_graph_model, graph_anatomy),
    ModelKind("subclassed", _any_model, subclassed_anatomy),
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
        KINDS.insert(position, ModelKind(name, recognises, resolve))
        return resolve

    return decorator


def unregister_kind(name: str) -> None:
    """Remove kind ``name`` registered by :func:`register_kind`."""
    KINDS[:] = [kind for kind in KINDS if kind.name != name]


def kind_of(model: keras.Model) -> ModelKind:
    """The first registered kind that recognises ``model``."""
    return next(kind for kind in KINDS if kind.recognises(model))


def dissect(model: Any, *, layer: Any, **choices: Any) -> Anatomy:
    """Check ``model``, decide its kind once and let that kind's resolver work out the
    Anatomy for the user's choices (the fields of
    :class:`~explainimg.engine.anatomy.Choices`)."""
    model = check_model(model, functions_too=True)
    kind = kind_of(model)
    return attrs.evolve(kind.resolve(model, Choices(layer=layer, **choices)), kind=kind.name)
