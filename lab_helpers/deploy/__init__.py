"""Push to deploy (lab 06), the client side: the course's git forge, its workflow runs, the images
they push, the Helm charts and the GitOps controller that rolls them out. Labs import from the
modules (``lab_helpers.deploy.charts``, ...); each module declares its own ``__all__``."""

__all__: list[str] = ["charts", "ci", "git", "gitops", "pipeline", "registry"]
