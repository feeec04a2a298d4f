"""The Sphinx configuration of the site, written as ``conf.py`` beside its sources, so that a person can
rebuild it with ``sphinx-build`` too. Everything it needs is installed: no theme, script or font is
fetched at build time or when a page is viewed."""

from __future__ import annotations

from pathlib import Path

PLOTLY_JS = "plotly.min.js"


def settings(project: str, repository: str | None, version: str) -> dict:
    theme_options: dict = {
        "home_page_in_toc": True,
        "show_toc_level": 2,
        "use_download_button": False,
        "use_fullscreen_button": False,
    }
    if repository:
        theme_options |= {"repository_url": repository, "use_repository_button": True, "repository_branch": "main"}
    return {
        "project": project,
        "version": version,
        "release": version,
        "extensions": ["myst_nb"],
        "exclude_patterns": ["_build", "**.ipynb_checkpoints"],
        "nb_execution_mode": "off",  # the labs ran before the build, with the course's own runner
        "nb_ipywidgets_js": {},  # widgets are made static before the build: no widget or require.js from a CDN
        "nb_merge_streams": True,
        "myst_heading_anchors": 3,
        "html_theme": "sphinx_book_theme",
        "html_theme_options": theme_options,
        "html_title": project,
        "html_context": {"default_mode": "light"},  # the theme's script reports an empty mode as an error
        "html_static_path": ["_static"],
        "html_js_files": [PLOTLY_JS],
        "html_copy_source": False,  # the executed notebooks are the pages; no second copy to download
        "html_show_sourcelink": False,
        "html_show_search_summary": False,  # summaries are fetched page by page, which file:// refuses
        "html_last_updated_fmt": None,
        "suppress_warnings": ["mystnb.unknown_mime_type", "myst.header"],
    }


def write_conf(source_dir: Path, values: dict) -> Path:
    """``conf.py`` in ``source_dir`` with ``values``, one assignment a line."""
    lines = ['"""Sphinx configuration of the course website, written by `lab site`."""', ""]
    lines += [f"{name} = {value!r}" for name, value in values.items()]
    path = source_dir / "conf.py"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def copy_plotly_js(static_dir: Path) -> Path:
    """The installed plotly package's own plotly.min.js, shipped with the site."""
    import shutil

    import plotly

    bundled = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    if not bundled.is_file():
        from ..errors import MissingPiece

        raise MissingPiece(
            f"plotly's {PLOTLY_JS} is missing from the installed plotly.", hint="pip install --force-reinstall plotly"
        )
    static_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(bundled, static_dir / PLOTLY_JS))
