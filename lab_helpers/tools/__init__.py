"""The command-line tools the course installs for the learner (kubectl and helm)."""

from .install import TOOLS_SUBDIR, Tool, install, installed, tools_dir

__all__ = ["TOOLS_SUBDIR", "Tool", "install", "installed", "tools_dir"]
