"""Denoising: noise models, folder and array denoising, full-resolution tiling, the presets."""
