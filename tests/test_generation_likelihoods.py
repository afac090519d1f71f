"""How good is a VAE: ELBO, IWAE bound, vae-apps evaluate (vae_apps/generation/likelihoods.py)."""

import numpy as np
import pytest

from vae_apps_cli.cli import main


@pytest.fixture(scope="module")
def model(trained_digits_model):
    from vae_apps.loading import load_vae

    return load_vae(trained_digits_model)


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k(model, digits):
    from vae_apps.generation.likelihoods import elbo_terms, iwae_nll

    x = digits.test.x[:100]
    elbo = np.mean([elbo_terms(model, x, seed=s)["negative_elbo"] for s in range(5)])
    # The bound tightens in expectation: average a few seeds so Monte Carlo noise
    # (~0.02 nats here) does not decide the order.
    nll = {k: np.mean([iwae_nll(model, x, num_samples=k, seed=s, rows_per_call=640) for s in range(4)])
           for k in (1, 10, 200)}
    assert nll[1] == pytest.approx(elbo, rel=0.02)  # K = 1 is the ELBO
    assert nll[200] <= nll[10] <= nll[1] + 0.05
    assert nll[200] < elbo


def test_elbo_terms_add_up(model, digits):
    from vae_apps.generation.likelihoods import elbo_terms

    terms = elbo_terms(model, digits.test.x)
    assert terms["negative_elbo"] == pytest.approx(terms["reconstruction"] + terms["kl"])
    assert terms["kl"] > 0


def test_evaluate_prints_and_writes_json(trained_digits_model, tmp_path, capsys):
    import json

    out = tmp_path / "m.json"
    assert main(["evaluate", "digits", "--model", str(trained_digits_model), "--iwae-samples", "50",
                 "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert set(figures) >= {"negative_elbo", "reconstruction", "kl", "iwae_nll_k50", "active_units"}
    assert figures["iwae_nll_k50"] <= figures["negative_elbo"] + 0.5
    out = capsys.readouterr().out
    assert "negative_elbo" in out
    assert "evaluate: " in out and "(100 %)" in out and "left" in out  # progress in a log


def test_evaluate_binarize_scores_binary_images(trained_digits_model, tmp_path):
    import json

    figures = {}
    for flag in ([], ["--binarize"]):
        out = tmp_path / f"m{len(flag)}.json"
        assert main(["evaluate", "digits", "--model", str(trained_digits_model), "--iwae-samples",
                     "5", "--json", str(out), *flag]) == 0
        figures[bool(flag)] = json.loads(out.read_text())
    # Binary pixels cost other nats than grey levels: the flag changed what was scored.
    assert figures[True]["negative_elbo"] != pytest.approx(figures[False]["negative_elbo"], rel=1e-3)


def test_iwae_estimate_is_reproducible_and_independent_of_the_batching(model, digits):
    from vae_apps.generation.likelihoods import iwae_nll

    x = digits.test.x[:30]
    a = iwae_nll(model, x, num_samples=50, seed=3)
    assert iwae_nll(model, x, num_samples=50, seed=3) == a  # same seed, same estimate
    # Other batchings draw other samples: the same estimate within Monte Carlo noise.
    b = iwae_nll(model, x, num_samples=50, seed=3, batch_size=7, rows_per_call=70)
    assert b == pytest.approx(a, abs=0.3)
