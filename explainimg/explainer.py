"""``Explainer``: explain one image, a batch, or a stream with the same model, layer and method.

The layer, the output kind and the compiled function are worked out once per (model, layer,
method) by :mod:`explainimg.engine.plans`; this module checks what each call passes and turns
the raw results into Explanations.

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv"),
...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
>>> explainer = Explainer(model)
>>> [len(e.targets) for e in explainer.explain_batch(np.zeros((4, 8, 8, 3)), top=2)]
[2, 2, 2, 2]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import keras
import numpy as np
from PIL import Image

from .engine.plans import plan_for, traces_of
from .engine.progress import progress_bar
from .engine.provenance import plan_provenance
from .engine.score_slots import scoring_groups
from .engine.transport import model_from_bytes, model_to_bytes
from .errors import ExplanationError, bad_argument, said
from .explanation import Explanation
from .inputs.arguments import (
    check_input_shape,
    check_list_count,
    checked_displays,
    checked_image,
    checked_size,
    checked_target_names,
    checked_top,
    image_batch,
    is_per_image,
    one_image,
    target_matrix,
)
from .inputs.batches import count_images, file_sources, iter_chunks
from .inputs.model_inputs import InputLayout, channels_last_pixels, check_rows
from .inputs.preprocessing import checked_preprocess
from .results import ImageRows, Names, no_targets_explanation
from .targets import score_functions


class Explainer:
    """Explains images for one model, layer and method, compiled once and reused.

    - ``layer``: None (automatic), a name, a ``"nested/path"``, an attribute name of a
      subclassed model, an index or a Layer.
    - ``method``: a key of :data:`explainimg.methods.METHODS` (``"gradcam"``, ``"saliency"``,
      ...) or a configured method such as ``SmoothGrad(samples=50)``.
    - ``target_names``: default class names for every call (a list or ``{id: name}`` dict).
    - ``output``: the output to explain (a name or index) of a model with several outputs.
    - ``image_input``: the input to explain (a name or index) of a model with several 4-D
      inputs; a model's other inputs come with ``x`` and are held as given.
    - ``token_grid``: (h, w) patch grid of a transformer layer's tokens, where it can't be
      inferred (:mod:`explainimg.engine.tokens`).
    - ``preprocess``: a function from raw pictures to model inputs, or ``"model"`` for a
      KerasHub model's own preprocessor (:mod:`explainimg.inputs.preprocessing`).
    - ``decode``: explain the model as a detector whose outputs ``decode`` turns into
      boxes, labels and confidences (:mod:`explainimg.engine.kind_decoded`).

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
    ...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    >>> explainer = Explainer(model, target_names=["a", "b", "c"])
    >>> explainer.explain(np.zeros((8, 8, 3)), targets=[2]).targets[0].target_name
    'c'
    >>> sum(1 for _ in explainer.explain_stream(np.zeros((10, 8, 8, 3)), batch_size=4))
    10
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        layer: Any = None,
        method: Any = "gradcam",
        target_names: Any = None,
        output: Any = None,
        image_input: Any = None,
        token_grid: Any = None,
        preprocess: Any = None,
        size: Any = None,
        decode: Any = None,
    ) -> None:
        self._layer = layer
        self._method = method
        self._choices = dict(
            image_input=image_input, output=output, token_grid=token_grid, decode=decode
        )
        self._plan = plan_for(model, layer, method, self._choices)
        self.model = model
        self._size = checked_size(size, tuple(self._plan.anatomy.io.image_spec[0]))
        check_input_shape(self._input_shape)
        io = self._plan.anatomy.io
        self._layout = InputLayout(
            io.input_names, io.image_input, tuple(shape for shape, _ in io.extra_specs)
        )
        self._channels_first = io.channels_first
        self._preprocess_option = preprocess
        self._preprocess = checked_preprocess(preprocess, model)
        self.target_names = checked_target_names(target_names, self.n_classes)

    def __reduce__(self) -> Any:
        # The model travels as .keras bytes; compiled functions are rebuilt on arrival. A
        # ``preprocess`` function must pickle itself.
        options = {
            **self._choices,
            "preprocess": self._preprocess_option,
            "layer": self.layer,
            "method": self._plan.method,
            "target_names": self.target_names,
            "size": self._size,
        }
        return _rebuilt_explainer, (model_to_bytes(self.model), options)

    @property
    def layer(self) -> str | None:
        """Path of the explained layer (``"nested_model/layer"`` inside nested models), or
        None for methods that explain the input pixels directly."""
        return self._plan.compiled.layer_path

    @property
    def provenance(self) -> dict[str, Any]:
        """Where this explainer's explanations come from: versions, method, settings, seed,
        layer (:func:`explainimg.engine.provenance.plan_provenance`)."""
        return plan_provenance(self._plan.method, self.layer, self.model.name)

    @property
    def n_classes(self) -> int:
        """Number of classes the model can be asked about (2 for a single sigmoid unit; 0
        for outputs that hold no class scores, explained through score functions; a
        detector's classes)."""
        return self._plan.anatomy.class_count or self._plan.head.n_classes

    @property
    def trace_count(self) -> int:
        """How many times the compiled functions were traced, whatever the targets."""
        return traces_of(self.model, self._layer, self._method)

    def confidences(self, xs: Any, *, batch_size: int = 32) -> np.ndarray:
        """(N, classes): the model's probabilities for images ``xs`` (a single sigmoid unit
        gives [1 - p, p]), or its raw scores when it has no softmax or sigmoid."""
        self._plan.head.require_classes()
        images, extras = self._split(xs, "xs")
        rows = []
        for start, chunk in iter_chunks(images, batch_size):
            batch = self._model_batch(image_batch(chunk, self._input_shape, offset=start)[0])
            chunk_extras = self._extra_rows(extras, start, batch.shape[0], "xs")
            rows.append(
                self._plan.compiled.confidences(batch, extras=chunk_extras, pad_to=batch_size)
            )
        if not rows:
            raise bad_argument("xs", "at least one image", said("no images"))
        check_rows(extras, self._layout.extra_names, sum(row.shape[0] for row in rows), "xs")
        return np.concatenate(rows)

    def explain(
        self,
        x: Any,
        *,
        targets: Any = None,
        top: int | None = None,
        image: Any = None,
        target_names: Any = None,
    ) -> Explanation:
        """One image; see :func:`explainimg.explain_prediction` for the arguments."""
        image_part, extras = self._split(x, "x")
        batch, original = one_image(image_part, self._input_shape)
        check_rows(extras, self._layout.extra_names, 1, "x")
        display = checked_image(image)
        (expl,) = self._explain(
            batch, extras, [original], [display], targets, top, target_names, file_sources(x)
        )
        if not expl.targets and self._plan.anatomy.image_targets is None:
            raise ExplanationError(expl.error)
        return expl

    def explain_batch(
        self,
        xs: Any,
        *,
        targets: Any = None,
        top: int | None = None,
        images: Sequence[Any] | None = None,
        target_names: Any = None,
    ) -> list[Explanation]:
        """Several images in one compiled call: an array (B, H, W, C), a tensor, or a list
        (for a model with several inputs: a dict or list of them, one row per image).

        ``targets``: class ids for every image (``[3, 5]``), one list per image
        (``[[3], [5]]``) or score functions. ``images``: pictures to draw on, one per image.
        An image for which the model produces NaN/inf comes back with ``error`` set and no
        targets.
        """
        image_part, extras = self._split(xs, "xs")
        batch, originals = image_batch(image_part, self._input_shape)
        check_rows(extras, self._layout.extra_names, batch.shape[0], "xs")
        displays = checked_displays(images, batch.shape[0])
        return self._explain(
            batch, extras, originals, displays, targets, top, target_names, file_sources(xs)
        )

    def explain_stream(
        self,
        xs: Any,
        *,
        batch_size: int = 32,
        targets: Any = None,
        top: int | None = None,
        target_names: Any = None,
        progress: bool = False,
    ) -> Iterator[Explanation]:
        """Explanations one by one, computed ``batch_size`` images at a time.

        ``xs``: an array or tensor (N, H, W, C), a list or iterable of images, or a
        ``tf.data.Dataset`` of images or (images, labels), batched or not (a model with
        several inputs: a dict or list of arrays). Only one batch is held at a time.
        ``targets`` as in :meth:`explain_batch` (one list per image: N lists).
        """
        self._check_choice(targets, top)
        images, extras = self._split(xs, "xs")
        chunks = iter_chunks(images, batch_size)
        total = count_images(images)
        if total is not None and is_per_image(targets):
            check_list_count(targets, total)
        return self._stream(chunks, extras, total, targets, top, target_names, progress, batch_size)

    def _stream(
        self,
        chunks: Iterator[tuple[int, Any]],
        extras: list[np.ndarray],
        total: int | None,
        targets: Any,
        top: int | None,
        target_names: Any,
        progress: bool,
        batch_size: int,
    ) -> Iterator[Explanation]:
        with progress_bar(total, enabled=progress) as bar:
            done = 0
            for start, chunk in chunks:
                batch, originals = image_batch(chunk, self._input_shape, offset=start)
                chunk_extras = self._extra_rows(extras, start, batch.shape[0], "xs")
                chunk_targets = targets
                if is_per_image(targets):
                    if len(targets) < start + batch.shape[0]:
                        check_list_count(targets, f"at least {start + batch.shape[0]}")
                    chunk_targets = targets[start : start + batch.shape[0]]
                displays = [None] * batch.shape[0]
                yield from self._explain(
                    batch,
                    chunk_extras,
                    originals,
                    displays,
                    chunk_targets,
                    top,
                    target_names,
                    file_sources(chunk),
                    pad_to=batch_size,
                )
                done += batch.shape[0]
                bar.update(batch.shape[0])
        check_rows(extras, self._layout.extra_names, done, "xs")
        if is_per_image(targets):
            check_list_count(targets, done)  # more lists than images: say so, don't drop them

    def _split(self, x: Any, argument: str) -> tuple[Any, list[np.ndarray]]:
        """The images (channels-last) and the model's other inputs in ``x``."""
        images, extras = self._layout.split(x, argument)
        if self._channels_first:
            images = channels_last_pixels(images)
        return images, extras

    def _extra_rows(
        self, extras: list[np.ndarray], start: int, count: int, argument: str
    ) -> list[np.ndarray]:
        rows = [extra[start : start + count] for extra in extras]
        check_rows(rows, self._layout.extra_names, count, argument)
        return rows

    @property
    def _input_shape(self) -> tuple[int | None, ...]:
        """The model's image input shape, with ``size`` filled in where the model leaves
        height and width open."""
        shape = tuple(self._plan.anatomy.io.image_spec[0])
        if self._size is None:
            return shape
        width, height = self._size
        return (shape[0], height, width, *shape[3:])

    def _model_batch(self, batch: np.ndarray) -> np.ndarray:
        """What the model gets for ``batch``: the batch itself, or it preprocessed."""
        if self._preprocess is None:
            return batch
        return self._preprocess(batch, self._input_shape)

    def _names(self, target_names: Any) -> Names:
        if target_names is None:
            return self.target_names
        return checked_target_names(target_names, self.n_classes)

    def _check_choice(self, targets: Any, top: Any) -> None:
        if targets is not None and top is not None:
            raise bad_argument(
                "targets",
                "either targets or top, not both",
                said(f"targets={targets!r} and top={top!r}"),
            )

    def _explain(
        self,
        batch: np.ndarray,
        extras: list[np.ndarray],
        originals: list[Image.Image | None],
        displays: list[Image.Image | None],
        targets: Any,
        top: int | None,
        target_names: Any,
        sources: list[str | None],
        pad_to: int | None = None,
    ) -> list[Explanation]:
        self._check_choice(targets, top)
        pictures = [displays[i] or originals[i] or batch[i] for i in range(batch.shape[0])]
        rows = ImageRows(batch, extras, pictures, sources)
        functions = score_functions(targets)
        own = self._plan.anatomy.image_targets
        if own is not None and functions is None:  # the model's kind makes them: detections
            return self._explain_own(own, rows, targets, top, target_names, pad_to)
        if functions is not None:
            return self._explain_scored(rows.with_functions([functions] * len(batch)), pad_to)
        plan = self._plan
        plan.head.require_classes()
        model_batch = self._model_batch(batch)
        if targets is not None:
            matrix = target_matrix(targets, batch.shape[0], self.n_classes)
            result = plan.compiled.run(model_batch, extras=extras, targets=matrix, pad_to=pad_to)
        else:
            k = 1 if top is None else checked_top(top, self.n_classes)
            result = plan.compiled.run(model_batch, extras=extras, top=k, pad_to=pad_to)
        names = self._names(target_names)
        return [rows.explanation(self.model.name, plan, result, i, names) for i in rows.indices]

    def _explain_own(
        self, own: Any, rows: ImageRows, targets: Any, top: Any, target_names: Any, pad_to: Any
    ) -> list[Explanation]:
        """Each image explained for the targets its model's kind makes of the user's (a
        detector's detections); with none, an Explanation whose ``error`` says why."""
        names, found, missing = self._names(target_names), [], {}
        for i in rows.indices:
            chosen = targets[i] if is_per_image(targets) else targets
            functions, why = own(self._model_batch(rows.batch[i : i + 1]), chosen, top, names)
            found.append(tuple(functions))
            if not functions:
                missing[i] = no_targets_explanation(
                    self.model.name, self._plan, why, rows.pictures[i], rows.sources[i]
                )
        kept = rows.with_functions(found).subset([i for i in rows.indices if i not in missing])
        explained = iter(self._explain_scored(kept, pad_to) if kept.indices else [])
        return [missing[i] if i in missing else next(explained) for i in rows.indices]

    def _explain_scored(self, rows: ImageRows, pad_to: Any) -> list[Explanation]:
        """The images explained for their own score functions: those whose functions differ
        only in numbers run as one compiled call (:mod:`explainimg.engine.score_slots`)."""
        model_batch = self._model_batch(rows.batch)
        explanations: list[Any] = [None] * len(rows.batch)
        for group in scoring_groups(rows.functions, self._plan.head.shape):
            choices = {**self._choices, "score_functions": group.functions}
            plan = plan_for(self.model, self._layer, self._method, choices)
            at = np.asarray(group.rows)
            matrix = np.tile(np.arange(len(group.functions)), (len(at), 1))
            inputs = [extra[at] for extra in rows.extras] + group.parameters
            run = plan.compiled.run
            result = run(model_batch[at], extras=inputs, targets=matrix, pad_to=pad_to)
            for j, i in enumerate(group.rows):
                explanations[i] = rows.explanation(self.model.name, plan, result, j, None, i)
        return explanations


def _rebuilt_explainer(model_bytes: bytes, options: dict[str, Any]) -> Explainer:
    """The Explainer that ``Explainer.__reduce__`` sent, rebuilt in the receiving process.

    >>> import keras, pickle
    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv"),
    ...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    >>> copy = pickle.loads(pickle.dumps(Explainer(model, target_names=["a", "b", "c"])))
    >>> copy.layer, copy.target_names
    ('conv', ['a', 'b', 'c'])
    """
    return Explainer(model_from_bytes(model_bytes), **options)
