"""Which of a model's inputs is the image and which of its outputs is explained.

A model may take several inputs (two images, an image and a vector, as a list or a dict, as
``model.predict`` takes them) and give several outputs. The image input is the only 4-D one,
or the one named by ``image_input=``; the other inputs are passed through as given. A model
with one output explains it; with several, ``output=`` (a name or an index) must choose.

>>> import keras
>>> image, meta = keras.Input((8, 8, 3), name="image"), keras.Input((2,), name="meta")
>>> pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(image))
>>> joined = keras.layers.Concatenate()([pooled, meta])
>>> model = keras.Model({"image": image, "meta": meta},
...     {"kind": keras.layers.Dense(3, name="kind")(joined),
...      "size": keras.layers.Dense(1, name="size")(joined)})
>>> io = graph_model_io(model, output="size")
>>> io.input_names[io.image_input], io.output_names[io.output]
('image', 'size')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import keras

from ..errors import bad_argument, bad_type, said
from .layout import channels_last_shape


@attrs.frozen(eq=False)
class ModelIO:
    """The model's inputs and outputs as the explainer sees them (flattened, in Keras' order).

    ``input_specs``: (shape with batch None, dtype) per input; ``image_input`` and ``output``
    are positions in the flattened inputs and outputs. ``derive``, when set by the model's
    kind, computes the explained output from all outputs and the images instead (a
    detector's detections: :mod:`explainimg.engine.detection_view`).
    """

    input_names: tuple[str, ...]
    input_specs: tuple[tuple[tuple[int | None, ...], str], ...]
    image_input: int
    output_names: tuple[str, ...]
    output: int
    input_struct: Any = None
    channels_first: bool = False
    derive: Callable[[Any, Any], Any] | None = None

    @property
    def image_spec(self) -> tuple[tuple[int | None, ...], str]:
        """Shape and dtype of the image input, channels-last (as the explainer sees it)."""
        shape, dtype = self.input_specs[self.image_input]
        return (channels_last_shape(shape) if self.channels_first else shape), dtype

    @property
    def extra_specs(self) -> list[tuple[tuple[int | None, ...], str]]:
        """Specs of the inputs other than the image, in order."""
        return [spec for i, spec in enumerate(self.input_specs) if i != self.image_input]

    @property
    def extra_names(self) -> list[str]:
        return [name for i, name in enumerate(self.input_names) if i != self.image_input]

    def assemble(self, images: Any, extras: Sequence[Any]) -> Any:
        """The model's input structure with ``images`` (in the model's layout) in the image
        slot."""
        flat = list(extras)
        flat.insert(self.image_input, images)
        if self.input_struct is None:
            return flat[0]
        return keras.tree.pack_sequence_as(self.input_struct, flat)

    def pick(self, outputs: Any, images: Any = None) -> Any:
        """The explained output out of the model's outputs (``images``: the batch they came
        from), or ``derive(outputs, images)`` when the model's kind derives it from them."""
        if self.derive is not None:
            return self.derive(outputs, images)
        flat = keras.tree.flatten(outputs)
        return flat[self.output]


def _names(struct: Any, tensors: Sequence[Any], fallback: str) -> tuple[str, ...]:
    if isinstance(struct, dict):
        return tuple(keras.tree.flatten({key: key for key in struct}))
    names = []
    for i, tensor in enumerate(tensors):
        history = getattr(tensor, "_keras_history", None)
        operation = getattr(history, "operation", None)
        name = getattr(operation, "name", None) or getattr(tensor, "name", None)
        names.append(str(name) if name else f"{fallback}_{i}")
    return tuple(names)


def _choose(argument: str, choice: Any, names: Sequence[str], what: str) -> int:
    if isinstance(choice, bool) or not isinstance(choice, (int, str)):
        raise bad_type(argument, f"the name or index of one of the model's {what}s", choice)
    if isinstance(choice, int):
        if not -len(names) <= choice < len(names):
            raise bad_argument(
                argument, f"an index between {-len(names)} and {len(names) - 1}", choice
            )
        return choice % len(names)
    if choice not in names:
        listing = ", ".join(map(repr, names))
        raise bad_argument(argument, f"one of the model's {what} names {listing}", choice)
    return names.index(choice)


def _graph_inputs(model: keras.Model) -> tuple[tuple[str, ...], list[Any], Any]:
    struct = getattr(model, "_inputs_struct", None)
    struct = model.inputs if struct is None else struct
    tensors = keras.tree.flatten(struct)
    names = _names(struct, tensors, "input")
    if isinstance(model, keras.Sequential) or not isinstance(struct, (dict, list, tuple)):
        return names, tensors, None
    return names, tensors, struct


def _image_input(specs: Sequence[tuple[tuple, str]], names: Sequence[str], choice: Any) -> int:
    four_d = [i for i, (shape, _) in enumerate(specs) if len(shape) == 4]
    if choice is not None:
        index = _choose("image_input", choice, names, "input")
        shape = specs[index][0]
        if len(shape) != 4:
            raise bad_argument(
                "image_input",
                "an input of shape (batch, height, width, channels)",
                said(f"input {names[index]!r} of shape {shape}"),
            )
        return index
    if len(four_d) == 1:
        return four_d[0]
    if not four_d:
        expected = "a model whose input is a batch of images (batch, height, width, channels)"
        if len(specs) == 1:
            raise bad_argument("model", expected, said(f"a model with input shape {specs[0][0]}"))
        shapes = ", ".join(f"{names[i]!r} {shape}" for i, (shape, _) in enumerate(specs))
        raise bad_argument("model", expected, said(f"a model with inputs {shapes}"))
    listing = ", ".join(repr(names[i]) for i in four_d)
    raise bad_argument(
        "image_input",
        f"the name or index of the image input to explain, one of {listing}",
        said("None, and the model has several 4-D inputs"),
    )


def graph_model_io(model: keras.Model, *, image_input: Any = None, output: Any = None) -> ModelIO:
    """Inputs and outputs of a functional or Sequential ``model``, read from its graph, with
    the image input and the explained output chosen."""
    names, tensors, struct = _graph_inputs(model)
    specs = tuple((tuple(t.shape), str(t.dtype)) for t in tensors)
    output_struct = getattr(model, "_outputs_struct", None)
    output_struct = model.outputs if output_struct is None else output_struct
    output_names = _names(output_struct, keras.tree.flatten(output_struct), "output")
    return _chosen(names, specs, struct, output_names, image_input, output)


def single_input_io(
    input_spec: tuple[tuple[int | None, ...], str],
    *,
    outputs: int = 1,
    image_input: Any = None,
    output: Any = None,
) -> ModelIO:
    """Inputs and outputs of a model that takes one batch of images (a subclassed model: its
    ``input_spec`` and number of ``outputs`` are learnt from its build shape and a probe run).

    >>> io = single_input_io(((None, 8, 8, 3), "float32"), outputs=2, output="output_1")
    >>> io.input_names, io.output_names[io.output]
    (('input',), 'output_1')
    """
    output_names = ("output",) if outputs == 1 else tuple(f"output_{i}" for i in range(outputs))
    return _chosen(("input",), (input_spec,), None, output_names, image_input, output)


def _chosen(
    names: tuple[str, ...],
    specs: tuple[tuple[tuple[int | None, ...], str], ...],
    struct: Any,
    output_names: tuple[str, ...],
    image_input: Any,
    output: Any,
) -> ModelIO:
    index = _image_input(specs, names, image_input)
    if output is None:
        if len(output_names) > 1:
            raise bad_argument(
                "output",
                "the name or index of the output to explain, one of "
                + ", ".join(map(repr, output_names)),
                said(f"None, and the model has {len(output_names)} outputs"),
            )
        chosen = 0
    else:
        chosen = _choose("output", output, output_names, "output")
    return ModelIO(names, specs, index, output_names, chosen, struct)
