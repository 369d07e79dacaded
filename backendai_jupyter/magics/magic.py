"""``BackendMagics``: the ``%backend`` line magic, the ``%%backend`` cell magic, their settings as traits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import Enum, Float, Int, Unicode, default, validate

from ..settings import SessionTraits, SettingError, env_choice, setting_problems, trait_source
from ..widgets.fallback import WIDGET_MODES
from . import cmd_config, cmd_images, cmd_run, cmd_sessions, cmd_vfolder
from .cmd_cell import RemoteCellError, run_cell
from .context import Context
from .errors import Interrupt, from_sdk, interrupted, one_line, usage_error
from .parser import HelpShown, split_args
from .progress import PROGRESS_MODES
from .registry import Command, dispatch

__all__ = ["COMMANDS", "BackendMagics"]

#: Every ``%backend`` subcommand, in the order ``%backend --help`` lists them.
COMMANDS: Mapping[str, Command] = {
    **cmd_config.COMMANDS,
    **cmd_sessions.COMMANDS,
    **cmd_run.COMMANDS,
    **cmd_vfolder.COMMANDS,
    **cmd_images.COMMANDS,
}


@magics_class
class BackendMagics(Magics, SessionTraits):
    """Control Backend.AI from IPython: ``%backend COMMAND ...`` and ``%%backend [NAME] [IMAGE]`` cells.

    Every setting is a trait: ``%config BackendMagics.image = 'python:3.11'`` or, in a Jupyter/IPython config
    file, ``c.BackendMagics.image = ...``. Defaults come from ``BACKENDAI_JUPYTER_<NAME>`` variables; the
    session settings (image, resources, mounts, environ, transport) are the kernel's own
    (``settings.SessionTraits``), and -r/-m/-e add to them.
    """

    concurrency = Int(4, help="Sessions a parameter sweep (run --env-range/--exec-range) runs at once.").tag(
        config=True
    )
    progress = Enum(
        PROGRESS_MODES,
        default_value="auto",
        help="Transfer progress bars: auto (widget in a notebook), widget, text, none.",
    ).tag(config=True)
    widgets = Enum(
        WIDGET_MODES,
        default_value="auto",
        help="Pickers: auto (widgets where the front end shows them), on, off (text).",
    ).tag(config=True)
    max_wait = Float(
        0.0, help="Seconds new sessions may take to start (0: no limit); --max-wait overrides."
    ).tag(config=True)
    page_size = Int(20, help="Rows per page of %backend ps.").tag(config=True)
    endpoint = Unicode("", help="API endpoint; empty: BACKEND_ENDPOINT or the SDK default.").tag(config=True)
    domain = Unicode("", help="Domain; empty: BACKEND_DOMAIN or 'default'.").tag(config=True)
    group = Unicode("", help="Project (group); empty: BACKEND_GROUP or 'default'.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.context = Context(self)

    @default("widgets")
    def _widgets_default(self) -> str:
        return env_choice("WIDGETS", WIDGET_MODES, "auto")

    @default("progress")
    def _progress_default(self) -> str:
        return env_choice("PROGRESS", PROGRESS_MODES, "auto")

    @validate("concurrency")
    def _check_concurrency(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if not 1 <= value <= 64:
            raise UsageError(f"BackendMagics.concurrency = {value}: give a number from 1 to 64")
        return value

    @validate("page_size")
    def _check_page_size(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if not 1 <= value <= 100:
            raise UsageError(f"BackendMagics.page_size = {value}: give a number from 1 to 100")
        return value

    def trait_rows(self) -> list[list[str]]:
        """(name, value, source) of every setting, for ``%backend config``; a bad value says what is wrong."""
        problems = setting_problems(self)
        rows = []
        for name in sorted(self.class_trait_names(config=True)):
            value = f"invalid: {one_line(problems[name])}" if name in problems else repr(getattr(self, name))
            rows.append([name, value, trait_source(self, name, "BackendMagics")])
        return rows

    @line_magic
    def backend(self, line: str) -> Any:
        """Control Backend.AI: ``%backend --help`` lists commands, ``%backend CMD --help`` explains one."""
        try:
            return dispatch(self.context, "%backend", COMMANDS, split_args(line))
        except HelpShown:
            return None
        except (UsageError, RemoteCellError, Interrupt):
            raise  # one line, or the remote traceback rendered as the kernel renders it
        except SettingError as exc:
            raise from_sdk(exc) from None
        except KeyboardInterrupt:
            command = line.split()[:1]  # the subcommand only: the arguments may hold secrets (-e KEY=...)
            raise interrupted(" ".join(["%backend", *command])) from None
        except Exception as exc:  # never a traceback from our code: one line and where to look
            raise usage_error(
                f"%backend failed unexpectedly: {one_line(exc)} ({type(exc).__name__})"
            ) from None

    @cell_magic("backend")  # type: ignore[arg-type]  # IPython types the named form as Never
    def backend_cell(self, line: str, cell: str) -> None:
        """Run the cell in a Backend.AI session: ``%%backend [NAME] [IMAGE] [-r K=V] [-m VFOLDER] [--rm]``."""
        try:
            run_cell(self.context, line, cell)
        except HelpShown:
            return
        except (UsageError, RemoteCellError, Interrupt):
            raise
        except SettingError as exc:
            raise from_sdk(exc) from None
        except KeyboardInterrupt:
            raise interrupted("%%backend") from None
        except Exception as exc:
            raise usage_error(
                f"%%backend failed unexpectedly: {one_line(exc)} ({type(exc).__name__})"
            ) from None
