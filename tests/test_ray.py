"""Ray Data: an actor pool of ExplainBatches on a local Ray gives the command line's results."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from explainimg.cli import main
from explainimg.integrations.ray_data import ExplainBatches
from explainimg.pipeline.heatmap_shards import read_heatmaps
from tests.test_stream import tiny_images, tiny_model

ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "explainimg[ray]")')
pq = pytest.importorskip("pyarrow.parquet")


@pytest.mark.slow  # starts Ray and two actors that each import TensorFlow
def test_an_actor_pool_matches_the_single_process_run(tmp_path, capsys):
    broken = tmp_path / "photos" / "broken.png"
    paths = [broken, *tiny_images(tmp_path / "photos", 24)]  # in the command line's order
    broken.write_text("not a picture")
    model = tmp_path / "tiny.keras"
    tiny_model().save(model)
    run = tmp_path / "run"
    options = ["--top", "2", "--preprocess", "tf", "--batch-size", "4", "--no-progress"]
    main(["explain", str(model), str(tmp_path / "photos"), "--out", str(run), *options])
    capsys.readouterr()
    lines = [json.loads(line) for line in (run / "results.jsonl").open()]
    # The run names files by their path inside the folder given; Ray rows keep the full path.
    folder = tmp_path / "photos"
    single = {str(folder / record["file"]): record for record in lines}
    heatmaps = {str(folder / file): maps for file, _, maps in read_heatmaps(run / "heatmaps")}

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        dataset = ray.data.from_items([{"path": str(path)} for path in paths])
        dataset.map_batches(
            ExplainBatches,
            fn_constructor_kwargs={  # the preprocess function travels to the actors
                "model_path": str(model),
                "top": 2,
                "preprocess": keras.applications.mobilenet_v2.preprocess_input,
            },
            compute=ray.data.ActorPoolStrategy(size=2),
            batch_size=4,
            batch_format="numpy",
        ).write_parquet(str(tmp_path / "parquet"))
    finally:
        ray.shutdown()

    table = pq.read_table(tmp_path / "parquet")
    rows = {row["file"]: row for row in table.to_pylist()}
    assert sorted(rows) == sorted(single) == sorted(map(str, paths))
    assert rows[str(broken)]["failure"].startswith("cannot read image (cannot identify")
    assert single[str(broken)]["failure"] == rows[str(broken)]["failure"]
    for path in paths[1:]:
        row, record = rows[str(path)], single[str(path)]
        assert row["failure"] is None
        assert row["targets"] == [target["target"] for target in record["targets"]]
        assert row["scores"] == [target["score"] for target in record["targets"]]
        assert row["probas"] == [target["proba"] for target in record["targets"]]
        np.testing.assert_array_equal(np.array(row["heatmaps"], np.float32), heatmaps[str(path)])
