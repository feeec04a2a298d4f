"""Figures: each returns a plotly figure (data), the notebook decides how to show it."""
