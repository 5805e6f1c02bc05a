"""MkDocs hooks: run every Python block at build time, add the notebooks, ship KaTeX with the site.

* Every bare ```python fence on a page becomes a markdown-exec block (source above, what it
  prints below, one session per page), so no output on the site is ever pasted by hand.
  What functions called by a block print (to ``sys.stdout``) is shown too.
  A fence that already says how to run (``exec="on"``, e.g. ``html="true"``) is left as written.
* The notebooks in ``examples/`` become pages (rendered and executed by mkdocs-jupyter).  With
  ``TINYGRAD_LITE_EXECUTED_NOTEBOOKS=DIR`` the pages are made from DIR/examples/*.ipynb as they
  are, already run (the test suite runs the notebooks once and builds the site from those).
* KaTeX comes from npm at set-up time (``npm ci``: package.json at the repository root) and is
  copied into the built site: the site makes no request outside itself.  Nothing third-party is
  committed.  Notebook pages lose nbconvert's MathJax and Mermaid loaders (from a CDN); KaTeX typesets them.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

KATEX_FILES = ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js", "fonts")
FENCE = re.compile(r"^```python[ \t]*$", re.M)
# nbconvert's loaders of MathJax and Mermaid from a CDN (KaTeX typesets; no notebook here has diagrams).
CDN_LOADERS = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"
                         r"|<script type=\"module\">(?:(?!</script>).)*?jp-Mermaid.*?</script>", re.S)
_state: dict[str, str] = {}


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _katex_dir(config) -> Path:
    found = _root(config) / "node_modules" / "katex" / "dist"
    if not (found / "katex.min.js").exists():
        raise PluginError(f"KaTeX not found in {found}: run `npm ci` in {_root(config)} (README, Set up)")
    return found


def _notebooks_root(config) -> Path:
    """The folder whose examples/ holds the notebooks the site shows."""
    executed = os.environ.get("TINYGRAD_LITE_EXECUTED_NOTEBOOKS")
    return Path(executed) if executed else _root(config)


def _capture_all_output() -> None:
    """Show what library code prints too (e.g. ``cli.main``), not only the block's own ``print`` calls.

    markdown-exec hands each block a ``print`` that writes to its buffer, and returns that buffer.
    Here every print goes to ``sys.stdout`` instead, captured around the block, so output from
    the block and from the functions it calls lands in the order it was printed.
    """
    from markdown_exec._internal.formatters import python as mx

    if getattr(mx._run_python, "_captures_stdout", False):
        return
    run = mx._run_python

    def run_capturing(code, *args, **kwargs):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            own = run(code, *args, **kwargs)
        return own + out.getvalue()

    run_capturing._captures_stdout = True
    mx._buffer_print = lambda buffer, *texts, **kwargs: builtins.print(*texts, **kwargs)
    mx._run_python = run_capturing


def on_config(config):
    _katex_dir(config)  # fail early, before anything is built
    _capture_all_output()
    if os.environ.get("TINYGRAD_LITE_EXECUTED_NOTEBOOKS"):
        config.plugins["mkdocs-jupyter"].config["execute"] = False
    config.extra_css = ["assets/katex/katex.min.css", *config.extra_css]
    config.extra_javascript = ["assets/katex/katex.min.js", "assets/katex/contrib/auto-render.min.js",
                               *config.extra_javascript]
    return config


def on_pre_build(config):
    # Blocks that write files (figures, steppers) write them into a scratch folder, not the repository.
    _state["cwd"] = os.getcwd()
    _state["scratch"] = tempfile.mkdtemp(prefix="tinygrad_lite_docs_")
    os.chdir(_state["scratch"])


def _restore():
    if "cwd" in _state:
        os.chdir(_state.pop("cwd"))
        shutil.rmtree(_state.pop("scratch"), ignore_errors=True)


def on_post_build(config):
    _restore()
    dest = Path(config.site_dir) / "assets" / "katex"
    src = _katex_dir(config)
    for name in KATEX_FILES:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (src / name).is_dir():
            shutil.copytree(src / name, target, dirs_exist_ok=True)
        else:
            shutil.copy2(src / name, target)


def on_build_error(error):
    _restore()


@event_priority(100)  # before mkdocs-jupyter looks at the files
def on_files(files, config):
    root = _notebooks_root(config)
    for nb in sorted((root / "examples").glob("*.ipynb")):
        files.append(File(f"examples/{nb.name}", str(root), config.site_dir, config.use_directory_urls))
    return files


def on_page_markdown(markdown, page, config, files):
    session = re.sub(r"\W", "_", Path(page.file.src_uri).with_suffix("").as_posix())  # "tutorial"
    return FENCE.sub(f'```python exec="on" source="above" result="text" session="{session}"', markdown)


def on_post_page(output, page, config):
    return CDN_LOADERS.sub("", output)
