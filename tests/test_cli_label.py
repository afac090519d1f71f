import csv

import numpy as np
import pytest
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
    assert "training a VAE on the" in capsys.readouterr().out
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


def _digits_labels(digits, tmp_path, per_class=3):
    y = digits.train.y
    rows = [int(i) for k in range(10) for i in np.flatnonzero(y == k)[:per_class]]
    path = tmp_path / "labels.csv"
    path.write_text("index,label\n" + "".join(f"{i},{y[i]}\n" for i in rows))
    return path, rows


def test_label_trains_a_semi_supervised_vae_by_default_and_suggests(digits, tmp_path, capsys):
    np.savez(tmp_path / "d.npz", x=digits.train.x[..., 0], y=digits.train.y)
    labels, rows = _digits_labels(digits, tmp_path)
    out = tmp_path / "pred.csv"
    assert main(["label", str(tmp_path / "d.npz"), "--labels", str(labels), "--out", str(out),
                 "--epochs", "3", "--suggest", "15"]) == 0
    printed = capsys.readouterr().out
    assert "training a semi-supervised VAE" in printed and "(semi-supervised;" in printed
    predictions = list(csv.DictReader(out.open()))
    assert len(predictions) == len(digits.train.x)
    assert all(predictions[i]["label"] == str(digits.train.y[i]) for i in rows)
    suggest = tmp_path / "pred_suggest.csv"
    lines = list(csv.reader(suggest.open()))
    assert lines[0] == ["index", "label"] and len(lines) == 16
    suggested = [int(r[0]) for r in lines[1:]]
    assert all(r[1] == "" for r in lines[1:])
    assert len(set(suggested)) == 15 and not set(suggested) & set(rows)
    # A second run refuses to overwrite the suggestions before it trains anything.
    before = suggest.read_bytes()
    assert main(["label", str(tmp_path / "d.npz"), "--labels", str(labels), "--out",
                 str(tmp_path / "other.csv"), "--epochs", "1", "--suggest", "5",
                 "--suggest-out", str(suggest)]) == 2
    assert "pred_suggest.csv: already exists" in capsys.readouterr().err
    assert suggest.read_bytes() == before and not (tmp_path / "other.csv").exists()


def test_a_model_trained_with_labels_labels_and_generates_by_class(digits, tmp_path, capsys):
    labels, rows = _digits_labels(digits, tmp_path)
    model = tmp_path / "ss.keras"
    assert main(["train", "digits", "--labels", str(labels), "--out", str(model),
                 "--epochs", "2"]) == 0
    assert "10 classes" in capsys.readouterr().out
    out = tmp_path / "pred.csv"
    assert main(["label", "digits", "--model", str(model), "--labels", str(labels),
                 "--out", str(out)]) == 0
    assert "(semi-supervised;" in capsys.readouterr().out
    # The confidence column is q(label | x) with or without the neighbours' vote; without
    # it (--smoothing 0) every label is q(y|x)'s own choice.
    from vae_apps.io.data import load_data
    from vae_apps.loading import load_vae

    proba = load_vae(model).predict_proba(load_data("digits").all().x)
    for csv_file, smoothing in ((out, None), (tmp_path / "alone.csv", "0")):
        if smoothing is not None:
            assert main(["label", "digits", "--model", str(model), "--labels", str(labels),
                         "--out", str(csv_file), "--smoothing", smoothing]) == 0
        table = np.genfromtxt(csv_file, delimiter=",", names=True, dtype=None, encoding="utf-8")
        unlabelled = np.flatnonzero(~table["labelled"])
        assert len(unlabelled) == len(proba) - len(rows)
        chosen = table["label"][unlabelled].astype(int)
        np.testing.assert_allclose(table["confidence"][unlabelled],
                                   proba[unlabelled, chosen], atol=1e-4)
    np.testing.assert_array_equal(chosen, proba[unlabelled].argmax(axis=1))
    with pytest.raises(SystemExit) as exit_info:
        main(["label", "digits", "--model", str(model), "--labels", str(labels),
              "--out", str(tmp_path / "p3.csv"), "--smoothing", "1"])
    assert exit_info.value.code == 2 and "--smoothing" in capsys.readouterr().err
    assert main(["label", "digits", "--model", str(model), "--labels", str(labels),
                 "--out", str(tmp_path / "p2.csv"), "--method", "spread"]) == 2
    assert "trained with them" in capsys.readouterr().err
    grid = tmp_path / "sevens.png"
    assert main(["generate", "--model", str(model), "--out", str(grid), "--class", "7",
                 "-n", "8"]) == 0
    assert Image.open(grid).size[0] > 0
    assert main(["generate", "--model", str(model), "--out", str(tmp_path / "x.png"),
                 "--class", "cat"]) == 2
    assert "no class 'cat'; the classes are 0, 1" in capsys.readouterr().err
    analogies = tmp_path / "analogies.png"
    assert main(["generate", "--model", str(model), "--out", str(analogies),
                 "--analogies", "digits", "-n", "3"]) == 0
    assert "rendered as each of 10 classes" in capsys.readouterr().out


def test_class_options_need_a_model_trained_with_labels(trained_digits_model, tmp_path, capsys):
    assert main(["generate", "--model", str(trained_digits_model), "--out",
                 str(tmp_path / "g.png"), "--class", "3"]) == 2
    assert "need a model trained with labels" in capsys.readouterr().err


def test_label_shows_training_progress_with_a_time_estimate_and_quiet_silences_it(
        digits, tmp_path, capsys):
    np.savez(tmp_path / "d.npz", x=np.round(digits.test.x[:120, ..., 0] * 255).astype("uint8"))
    (tmp_path / "labels.csv").write_text("index,label\n0,a\n1,b\n2,a\n")
    args = ["label", str(tmp_path / "d.npz"), "--labels", str(tmp_path / "labels.csv"),
            "--epochs", "2", "--method", "knn"]
    assert main(args + ["--out", str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err  # not a terminal here: lines, one per epoch at least
    assert "train: 2 epochs of" in err and "epoch 1/2 done (50 %)" in err
    assert "left" in err and "train: finished in" in err
    assert main(args + ["--out", str(tmp_path / "q.csv"), "--quiet"]) == 0
    assert "train:" not in capsys.readouterr().err


def test_progress_lines_come_within_an_epoch_when_it_is_long():
    import io

    import keras

    from vae_apps.training.callbacks import TrainingProgress

    stream = io.StringIO()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), batch_size=2, epochs=2, verbose=0,
              callbacks=[TrainingProgress("fit", stream=stream, every=0.0)])
    lines = stream.getvalue().splitlines()
    assert lines[0] == "fit: 2 epochs of 4 steps"
    assert "fit: epoch 1/2, step 1/4 (12 %)" in lines[1] and "about" in lines[1]
    assert any(line.startswith("fit: epoch 2/2 done (100 %)") for line in lines)
