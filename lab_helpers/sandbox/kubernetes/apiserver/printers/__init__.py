"""``kubectl get`` columns of the kinds beyond part 1's, one module per area; ``tables.py`` merges them.
Each module's ``PRINTERS`` maps a kind to (columns after NAME, cells after the name), as ``tables.PRINTERS``."""
