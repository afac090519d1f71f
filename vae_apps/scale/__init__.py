"""Scaling out: ``tf.distribute`` training and batch inference on Ray Data."""
