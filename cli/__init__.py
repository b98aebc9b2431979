"""The embedkit command line (installed as the package ``embedkit_cli``)."""
