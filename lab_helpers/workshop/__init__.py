"""The workshop view: an instructor's live page of the room's check results.

``server`` serves the page and accepts results; ``store`` keeps them (SQLite in WAL mode);
``tokens`` holds the instructor's and the learners' tokens; ``room`` turns the store into the
dashboard's JSON and ``figures`` into one plotly figure per check. The learner's side is
``sender``: after a check is recorded it hands the result to a background thread that posts it
when (and only when) ``lab start --workshop`` configured a workshop.

Nothing is imported here, so the learner's kernel loads only ``sender`` and never the server.
"""
