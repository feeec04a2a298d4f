"""Subcommands of `lab`: each module registers its own."""
