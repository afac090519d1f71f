"""The ``vae-apps`` command line: one thin module per subcommand."""
