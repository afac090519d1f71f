"""pythae's VAE with its Gaussian-mixture sampler, trained for a wall-time budget; run by
``generate_colour.py`` in an environment with pythae and torch (never imported by vae_apps).

    PYTHAE_PYTHON benchmarks/pythae_vae.py DATA.npz OUT.npz MINUTES SEED IWAE_SAMPLES

DATA.npz holds ``train`` and ``held`` (N x H x W x 3 in [0, 1]); OUT.npz gets the held-out
reconstructions, 200 samples, the training minutes and the IWAE bits/dim of a discretised
Gaussian around the decoder's mean (its sigma the best single one on 500 training
reconstructions), as generate_colour.py computes it for keras.io's recipe.
"""

import math
import sys
import time

import numpy as np
import torch
from pythae.data.datasets import DatasetOutput
from pythae.models import VAE, VAEConfig
from pythae.samplers import GaussianMixtureSampler, GaussianMixtureSamplerConfig


def networks(config, size):
    if size == 64:
        from pythae.models.nn.benchmarks.celeba import Decoder_Conv_AE_CELEBA, Encoder_Conv_VAE_CELEBA

        return Encoder_Conv_VAE_CELEBA(config), Decoder_Conv_AE_CELEBA(config)
    from pythae.models.nn.benchmarks.cifar import Decoder_Conv_AE_CIFAR, Encoder_Conv_VAE_CIFAR

    return Encoder_Conv_VAE_CIFAR(config), Decoder_Conv_AE_CIFAR(config)


def bin_log_prob(x, mean, sigma):
    """log P(x's 1/255 bin) under N(mean, sigma^2), the end bins open (per image, summed), in
    float64, from the tail a bin lies in: in float32, 1 - exp(-1e-12) is 0 and a pixel far above
    its mean gave log 0 (an infinite bits/dim)."""
    x, mean = x.double(), mean.double()
    upper = torch.where(x > 254.5 / 255, torch.full_like(x, float("inf")), (x + 0.5 / 255 - mean) / sigma)
    lower = torch.where(x < 0.5 / 255, torch.full_like(x, -float("inf")), (x - 0.5 / 255 - mean) / sigma)
    high = lower > 0  # both ends above the mean: P = Phi(-lower) - Phi(-upper)
    big = torch.where(high, torch.special.log_ndtr(-lower), torch.special.log_ndtr(upper))
    small = torch.where(high, torch.special.log_ndtr(-upper), torch.special.log_ndtr(lower))
    log_p = big + torch.log(-torch.expm1(torch.clamp(small - big, max=-1e-12)))
    return log_p.flatten(1).sum(1)


def main(data_path, out_path, minutes, seed, k):
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    data = np.load(data_path)
    train = torch.tensor(data["train"]).permute(0, 3, 1, 2).contiguous()
    held = torch.tensor(data["held"]).permute(0, 3, 1, 2).contiguous()
    size = train.shape[-1]
    config = VAEConfig(input_dim=tuple(train.shape[1:]), latent_dim=64, reconstruction_loss="mse")
    model = VAE(config, *networks(config, size))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start, epochs = time.perf_counter(), 0
    generator = torch.Generator().manual_seed(seed)
    while time.perf_counter() - start < minutes * 60:
        model.train()
        for rows in torch.randperm(len(train), generator=generator).split(64):
            loss = model(DatasetOutput(data=train[rows])).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if time.perf_counter() - start >= minutes * 60:
                break
        epochs += 1
    trained = (time.perf_counter() - start) / 60
    torch.save(model.state_dict(), out_path + ".pt")  # this script's own file
    model.eval()
    with torch.no_grad():
        def encode(x):
            out = model.encoder(x)
            return out.embedding, out.log_covariance

        def decode(z):
            return torch.cat([model.decoder(part)["reconstruction"] for part in z.split(256)])

        sampler = GaussianMixtureSampler(model, GaussianMixtureSamplerConfig(n_components=10))
        sampler.fit(train_data=train[:5000])
        samples = sampler.sample(num_samples=200)
        mu, log_var = encode(train[:500])
        recon_fit = decode(mu)
        sigmas = np.exp(np.linspace(np.log(0.005), np.log(0.3), 30))
        sigma = max(sigmas, key=lambda s: float(bin_log_prob(train[:500], recon_fit, s).mean()))
        mu, log_var = torch.cat([encode(p)[0] for p in held.split(256)]), torch.cat(
            [encode(p)[1] for p in held.split(256)])
        reconstructions = decode(mu)
        log_w = []
        for _ in range(k):
            z = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=generator)
            log_prior = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(1)
            log_q = -0.5 * ((z - mu) ** 2 / torch.exp(log_var) + log_var + math.log(2 * math.pi)).sum(1)
            log_w.append(bin_log_prob(held, decode(z), sigma) + log_prior - log_q)
        log_px = torch.logsumexp(torch.stack(log_w), 0) - math.log(k)
        bpd = float(-log_px.mean() / (np.prod(held.shape[1:]) * math.log(2)))
    np.savez(out_path, reconstructions=reconstructions.permute(0, 2, 3, 1).numpy(),
             samples=samples.permute(0, 2, 3, 1).numpy(), minutes=trained, epochs=epochs,
             bits_per_dim=bpd, sigma=sigma)
    print(f"pythae VAE: {epochs} epochs in {trained:.1f} min, {bpd:.3f} bits/dim (sigma {sigma:.3f})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
