"""The two HTML pages: sign-in, and the dashboard's frame (its script fills it from ``/api/room``)."""

from __future__ import annotations

import html

__all__ = ["dashboard_page", "signin_page"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem 0; }
.muted { color: #666; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failing { color: #b00; }
.stuck { background: #fff3f3; border: 1px solid #f0c0c0; padding: .4rem .8rem; margin: .6rem 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: .6rem; }
.lab-heading { grid-column: 1 / -1; margin: .6rem 0 0 0; font-size: 1.05rem; }
.error { color: #b00; }
form input[type=password] { width: 22rem; }
"""


def _frame(title: str, body: str, head: str = "") -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='icon' href='data:,'><style>{STYLE}</style>{head}</head>"
        f"<body>{body}</body></html>\n"
    )


def signin_page(error: str = "") -> str:
    note = f"<p class='error'>{html.escape(error)}</p>" if error else ""
    return _frame(
        "Workshop: sign in",
        "<h1>Workshop view</h1>"
        "<p>Sign in with the instructor token that <code>lab workshop</code> printed when it started "
        "(it is also in the file <code>instructor-token</code> of the workshop's state folder).</p>"
        f"{note}<form method='post' action='signin'>"
        "<label>Instructor token <input type='password' name='token' autocomplete='off' autofocus></label> "
        "<button type='submit'>Sign in</button></form>",
    )


def dashboard_page(refresh_s: float) -> str:
    head = (
        "<script src='static/plotly.min.js'></script>"
        f"<script>window.WORKSHOP_REFRESH_MS = {int(refresh_s * 1000)};</script>"
        "<script src='static/dashboard.js' defer></script>"
    )
    body = (
        "<h1>Workshop view</h1>"
        "<p class='muted'><span id='summary'>loading...</span> "
        "<span id='updated'></span> <span id='refresh-error' class='error'></span></p>"
        "<div id='stuck' class='stuck'></div>"
        "<h2>Learners</h2>"
        "<table id='learners'><thead><tr><th>learner</th><th>passed</th><th>failing now</th>"
        "<th>failed attempts</th><th>to be graded</th><th>not started</th><th>last seen</th>"
        "<th>still running</th><th>SU/hour</th></tr></thead><tbody></tbody></table>"
        "<h2>Checks: where the room is</h2>"
        "<p class='muted'>Each figure counts learners by how often they tried the check, coloured by "
        "their latest result; hover a bar for names.</p>"
        "<div id='figures' class='figures'></div>"
        "<h2>Joining</h2><p class='muted'>Learners run <code>lab start --workshop URL --workshop-token "
        "JOIN_TOKEN</code>. <button id='rotate'>Rotate the join token</button> "
        "<span id='join-token'></span></p>"
        "<form method='post' action='signout'><button type='submit'>Sign out</button></form>"
    )
    return _frame("Workshop view", body, head)
