"""Labelling a mostly unlabelled dataset: the latent-space labeller, label CSVs, suggestions."""
