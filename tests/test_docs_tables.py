"""The result tables of README and docs/ are rendered from benchmarks/results/*.json:
they must match those files, and a changed figure must show."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import render_tables  # noqa: E402


def test_every_table_matches_its_results_file():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "render_tables.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_changed_figure_in_a_results_file_changes_the_table(tmp_path):
    text = (ROOT / "docs" / "labelling.md").read_text(encoding="utf-8")
    assert render_tables.render(text) == text
    shutil.copytree(render_tables.RESULTS, tmp_path, dirs_exist_ok=True)
    cells = json.loads((tmp_path / "label_mnist.json").read_text())
    key = next(k for k in cells if "100 labels, seed 0, semi-supervised" in k)
    errors = cells[key]["value"]["errors"]
    errors[next(iter(errors))] += 3.0  # the default path's error at 100 labels
    (tmp_path / "label_mnist.json").write_text(json.dumps(cells))
    changed = render_tables.render(text, tmp_path)
    assert changed != text
    assert "**2.71 ± 0.33**" in text and "**2.71 ± 0.33**" not in changed


def test_every_document_has_its_tables_filled():
    for document in render_tables.DOCUMENTS:
        path = ROOT / document
        if path.exists():
            for name, body in re.findall(r"<!-- table: ([\w.]+) -->\n(.*?)<!-- end table -->",
                                         path.read_text(encoding="utf-8"), re.S):
                assert re.search(r"^\| .*\|\n\|---", body, re.M), f"{document}: table {name} is empty"


def test_the_documents_speak_of_the_software_not_of_work_periods():
    pattern = re.compile(r"\bsessions?\b|\bthis turn\b", re.I)
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
             *sorted((ROOT / "vae_apps").rglob("*.py")), *sorted((ROOT / "apps").glob("*.py")),
             *sorted((ROOT / "benchmarks").glob("*.py"))]
    found = [f"{f.relative_to(ROOT)}:{n}" for f in files
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, found
