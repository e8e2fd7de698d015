"""The lab's Experiment shape: every experiment declares one; the shared writer gives the same files
(and the same bytes for the same result) for all of them."""
from __future__ import annotations

import dataclasses
import importlib
import json

import pytest

pytest.importorskip("torch")

from curadebt.lab.experiment import Experiment  # noqa: E402

MODULES = ("curadebt.lab.inertia", "curadebt.lab.salience", "curadebt.lab.curate_vs_correct", "curadebt.lab.lockin",
           "curadebt.lab.overwrite")


@pytest.mark.parametrize("module", MODULES)
def test_every_experiment_declares_its_shape(module):
    exp = importlib.import_module(module).EXPERIMENT
    assert isinstance(exp, Experiment) and exp.name and exp.title
    assert dataclasses.is_dataclass(exp.config) and callable(exp.run) and callable(exp.markdown)
    assert exp.plot is not None or exp.writer is not None, "every experiment draws its result"


def test_names_are_unique():
    names = [importlib.import_module(m).EXPERIMENT.name for m in MODULES]
    assert len(set(names)) == len(names)


@dataclasses.dataclass
class Toy:
    n: int = 3


def _plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from curadebt.lab.io import save_figure

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(result["xs"])
    save_figure(fig, path)
    plt.close(fig)


TOY = Experiment(name="toy", title="A <toy> experiment", config=Toy,
                 run=lambda cfg, out, log: (log("running"), {"xs": list(range(cfg.n)), "nan": float("nan")})[1],
                 markdown=lambda r: f"| n |\n|---|\n| {len(r['xs'])} |\n", plot=_plot)


def test_the_shared_writer_writes_every_file_and_keeps_timings_apart(tmp_path):
    said = []
    result = TOY(Toy(n=4), tmp_path, said.append)
    assert said == ["running"] and result["timing"]["wall_seconds"] >= 0 and result["timing"]["cpu_seconds"] > 0
    paths = TOY.write(result, tmp_path / "a")
    assert sorted(paths) == ["html", "json", "markdown", "png", "timing"]
    data = json.loads(paths["json"].read_text())
    assert data == {"xs": [0, 1, 2, 3], "nan": None}, "strict JSON, no timings"
    assert "wall_seconds" in json.loads(paths["timing"].read_text())
    page = paths["html"].read_text()
    assert "A &lt;toy&gt; experiment" in page and "<script" not in page and "data:image/png;base64," in page
    again = TOY.write(TOY(Toy(n=4), tmp_path), tmp_path / "b")
    for k in ("json", "markdown", "png", "html"):
        assert paths[k].read_bytes() == again[k].read_bytes(), k
