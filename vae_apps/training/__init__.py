"""What every wing's training shares: the fit loop with its safety (``loop``), the callbacks
(``callbacks``), the ``tf.data`` pipelines (``datasets``) and the small-image recipe
(``small_images``).

Only the wings' training modules import this package; inference never does. It imports
nothing itself, so ``vae-apps --help`` can read the defaults without loading Keras.
"""
