"""The example notebook runs top to bottom on the demo data (so it cannot rot)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.components import require_module

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "demo.ipynb"


def test_the_committed_notebook_has_no_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.slow
def test_the_notebook_executes(tmp_path, monkeypatch):
    nbformat = require_module("nbformat", "pip install -e '.[test]'")
    nbclient = require_module("nbclient", "pip install -e '.[test]'")
    require_module("ipykernel", "pip install -e '.[test]'")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's ctsite
    for name in [n for n in os.environ if n.startswith("CTSITE_")]:
        monkeypatch.delenv(name)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError with the cell and traceback on any error
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    plotly = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(plotly) == 3  # the three figures, inline
    from ctsite.store.versions import manifest_path

    assert manifest_path(tmp_path / "ctsite-demo" / "compiled").is_file()
    texts = "".join(o.get("text", "") for o in outputs)
    assert texts.startswith("200 ")  # the background site answered /healthz
    assert "stopped" in str(outputs[-1].get("data", {}))
