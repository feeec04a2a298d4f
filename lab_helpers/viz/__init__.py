"""Everything a learner looks at: figures, widgets and text tables, one module per topic.

Each figure function returns a plotly figure (data); the notebook decides how to show it. The
numbers behind a figure are computed in its domain package (``gpu``, ``batch``, ``storage``...).
"""

# The modules the labs import from (each pins its own names in ``__all__``; tests/test_public_api.py).
__all__ = ["batch", "capstone", "cluster", "deploy", "flavors", "gpu", "hierarchy", "placement", "roofline", "storage"]
