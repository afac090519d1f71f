import csv

import numpy as np
from PIL import Image

from vae_apps_cli.cli import main


def test_label_a_folder_from_two_percent_of_the_files(trained_digits_model, digits, tmp_path, capsys):
    root = tmp_path / "images"
    x, y = digits.test.x, digits.test.y
    paths = []
    for i, (img, label) in enumerate(zip(x, y)):
        (root / f"class_{label}").mkdir(parents=True, exist_ok=True)
        path = f"class_{label}/{i}.png"
        Image.fromarray(np.round(img[..., 0] * 255).astype("uint8")).save(root / path)
        paths.append(path)
    given = np.random.default_rng(0).choice(len(paths), 8, replace=False)
    (tmp_path / "labels.csv").write_text(
        "path,label\n" + "".join(f"{paths[i]},digit {y[i]}\n" for i in given))
    out, figure = tmp_path / "pred.csv", tmp_path / "map.png"
    assert main(["label", str(root), "--model", str(trained_digits_model), "--labels",
                 str(tmp_path / "labels.csv"), "--out", str(out), "--figure", str(figure)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(paths) and set(rows[0]) == {"path", "label", "confidence", "labelled"}
    assert sum(r["labelled"] == "true" for r in rows) == 8
    by_path = {r["path"]: r for r in rows}
    for i in given:
        assert by_path[paths[i]]["label"] == f"digit {y[i]}"
    assert all(0 <= float(r["confidence"]) <= 1 for r in rows)
    assert figure.exists()
    assert "labelled" in capsys.readouterr().out


def test_label_an_array_file_trains_a_model_when_none_is_given(digits, tmp_path, capsys):
    np.savez(tmp_path / "d.npz", x=np.round(digits.test.x[..., 0] * 255).astype("uint8"))
    (tmp_path / "labels.csv").write_text("index,label\n0,a\n1,b\n2,a\n")
    out = tmp_path / "pred.csv"
    assert main(["label", str(tmp_path / "d.npz"), "--labels", str(tmp_path / "labels.csv"),
                 "--out", str(out), "--epochs", "1", "--method", "knn"]) == 0
    assert "no --model given: training" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert [r["index"] for r in rows[:3]] == ["0", "1", "2"] and {r["label"] for r in rows} <= {"a", "b"}


def test_label_csv_path_escaping_the_root_is_refused(trained_digits_model, tmp_path, capsys):
    root = tmp_path / "images"
    root.mkdir()
    Image.new("L", (8, 8)).save(root / "a.png")
    (tmp_path / "labels.csv").write_text("path,label\n../secret.png,x\n")
    assert main(["label", str(root), "--model", str(trained_digits_model), "--labels",
                 str(tmp_path / "labels.csv"), "--out", str(tmp_path / "p.csv")]) == 2
    assert "row 2: path '../secret.png' points outside" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()
