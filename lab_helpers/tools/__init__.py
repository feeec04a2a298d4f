"""The command-line tools the course installs for the learner (kubectl and helm), and which ones a shell runs."""

from .install import TOOLS_SUBDIR, Tool, install, installed, pinned, tools_dir
from .probe import ToolFound, find_tool, server_minor, tool_version

__all__ = [
    "TOOLS_SUBDIR",
    "Tool",
    "ToolFound",
    "find_tool",
    "install",
    "installed",
    "pinned",
    "server_minor",
    "tool_version",
    "tools_dir",
]
