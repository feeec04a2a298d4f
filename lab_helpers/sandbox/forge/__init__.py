"""The forge: a GitHub-like git host inside the sandbox, served under ``/git`` on the main port.

Bare repositories live in ``<sandbox state>/forge/repos/<owner>/<repo>.git`` and are served by the
real ``git http-backend`` (smart HTTP, called as CGI: ``smarthttp``); the sandbox's users push with
a forge token over HTTP Basic (``tokens``); a real ``pre-receive`` hook protects ``main`` and refuses
pushes carrying secrets (``hook``, ``scan``); a ``post-receive`` hook records one push event per
updated ref (``events``); ``api`` answers a Gitea-like JSON subset under ``/git/api/v1``.
Like GitHub, not GitHub: no pull requests, no web pages, no organisations.
"""
