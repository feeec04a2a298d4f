"""Notebooks: authoring (solutions -> learner versions), hygiene, headless runs, the working copy."""
