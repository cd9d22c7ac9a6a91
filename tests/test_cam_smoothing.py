"""``smooth="eigen"`` and ``smooth="aug"`` on the CAM methods (pytorch-grad-cam's
``eigen_smooth`` and ``aug_smooth``), against maps computed here, and ``smooth=`` refused
with a clear error by every other method."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import explainimg as ei
from explainimg.methods import METHODS, GradCAM, GuidedGradCAM, HiResCAM, Saliency, ScoreCAM
from tests import builders
from tests.reference import layer_and_gradients, principal_projection, requires_tensorflow, unit

pytestmark = pytest.mark.core

COPIES = [(mirrored, factor) for mirrored in (False, True) for factor in (0.9, 1.0, 1.1)]


@pytest.fixture(scope="module")
def residual():
    model = builders.functional_activation_softmax()
    get = model.get_layer
    return model, "block_out", lambda a: get("logits")(get("gap")(a))


TERMS = {
    "gradcam": lambda a, g: a * g.mean(axis=(0, 1)),
    "hirescam": lambda a, g: a * g,
}


@requires_tensorflow
@pytest.mark.parametrize("key", TERMS)
def test_eigen_smoothing_is_the_first_component_of_the_channel_terms(residual, key):
    model, layer, head = residual
    x = builders.image(seed=43)
    expl = ei.explain_prediction(
        model, x, top=3, method=type(ei.methods.get_method(key))(smooth="eigen")
    )
    plain = ei.explain_prediction(model, x, top=3, method=key)
    for target, unsmoothed in zip(expl.targets, plain.targets, strict=True):
        a, g = layer_and_gradients(model, layer, head, x, target.target)
        expected = principal_projection(TERMS[key](a, g))
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)
        assert not np.allclose(target.heatmap, unsmoothed.heatmap, atol=1e-2)


@requires_tensorflow
def test_aug_smoothing_averages_the_maps_of_six_copies_aligned_back(residual):
    model, layer, head = residual
    x = builders.image(seed=44)
    expl = ei.explain_prediction(model, x, top=2, method=GradCAM(smooth="aug"))
    plain = ei.explain_prediction(model, x, top=2)
    assert [t.target for t in expl.targets] == [t.target for t in plain.targets]
    for target, unsmoothed in zip(expl.targets, plain.targets, strict=True):
        assert target.score == pytest.approx(unsmoothed.score, rel=1e-5)
        maps = []
        for mirrored, factor in COPIES:
            copy = (x[:, ::-1] if mirrored else x) * factor
            a, g = layer_and_gradients(model, layer, head, copy, target.target)
            cam = unit(np.maximum((a * g.mean(axis=(0, 1))).sum(axis=-1), 0))
            maps.append(cam[:, ::-1] if mirrored else cam)
        np.testing.assert_allclose(target.heatmap, unit(np.mean(maps, axis=0)), atol=1e-4)
        assert not np.allclose(target.heatmap, unsmoothed.heatmap, atol=1e-2)


def test_aug_smoothing_equals_the_mean_of_explained_copies_on_any_backend(residual):
    model = residual[0]
    x = builders.image(seed=45)
    for method in (HiResCAM(smooth="aug"), ScoreCAM(max_channels=4, smooth="aug")):
        expl = ei.explain_prediction(model, x, targets=[1], method=method)
        plain = attrs.evolve(method, smooth=None)
        maps = []
        for mirrored, factor in COPIES:
            copy = (x[:, ::-1] if mirrored else x) * factor
            heat = ei.explain_prediction(model, copy, targets=[1], method=plain).targets[0].heatmap
            maps.append(heat[:, ::-1] if mirrored else heat)
        np.testing.assert_allclose(expl.targets[0].heatmap, unit(np.mean(maps, 0)), atol=1e-5)


def test_every_cam_method_takes_both_smoothings_and_every_other_refuses_them():
    for key, cls in METHODS.items():
        if cls.smoothings:
            assert cls(smooth="aug").augmented and cls(smooth="eigen").smooth == "eigen", key
        else:
            with pytest.raises(ValueError, match=r"^smooth: expected None for "):
                cls(smooth="aug")
    assert {key for key, cls in METHODS.items() if cls.smoothings} >= {
        "gradcam", "gradcam++", "layercam", "scorecam", "hirescam", "xgradcam",
        "gradcam_elementwise", "eigencam", "eigengradcam",
    }  # fmt: skip


def test_smooth_errors_name_the_option_what_was_expected_and_what_came():
    with pytest.raises(ValueError) as refused:
        Saliency(smooth="aug")
    assert str(refused.value) == (
        "smooth: expected None for Saliency, which has no smoothing option, got 'aug'. "
        "smooth='aug' and smooth='eigen' smooth the maps of the CAM methods (such as "
        "'gradcam'); 'smoothgrad' averages input gradients over noisy copies."
    )
    with pytest.raises(ValueError, match=r"^smooth: expected None for Guided Grad-CAM"):
        GuidedGradCAM(smooth="eigen")
    with pytest.raises(ValueError) as unknown:
        GradCAM(smooth="blur")
    assert str(unknown.value) == "smooth: expected None or one of 'aug', 'eigen', got 'blur'"
