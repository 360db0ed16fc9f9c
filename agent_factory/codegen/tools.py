"""The coding agent's tools, written against the OpenHands SDK's tool API.

`file_editor` views, creates and edits files inside the workspace (paths that resolve outside
it are refused); `terminal` runs a shell command started in the workspace, with secrets removed
from its environment (`acceptance.command_env`). They stand in for
the `openhands-tools` package, whose current release drags in a browser stack and pins an
older SDK. The `terminal` runs commands on this machine as this user, like OpenHands'
local workspace: run untrusted jobs in a container.

Importing this module imports the SDK and registers the tools; `agent.py` does that only
after `sdk.import_sdk()` has succeeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from openhands.sdk import Action, Observation, ToolDefinition
from openhands.sdk.tool import ToolAnnotations, ToolExecutor, register_tool
from pydantic import Field

from .acceptance import run_shell, truncate
from .workspace import STATE_DIR

if TYPE_CHECKING:
    from openhands.sdk.conversation.state import ConversationState

VIEW_LIMIT = 20_000
TERMINAL_OUTPUT_LIMIT = 10_000
MAX_COMMAND_TIMEOUT_S = 600


class WorkspaceRefusal(Exception):
    """A tool call the workspace does not allow (a path outside it, a missing old_str …)."""


def inside(workspace: Path, path: str) -> Path:
    """`path` (relative to the workspace, or absolute) resolved, refused outside the workspace
    or inside its `.agent-factory` state folder."""
    root = workspace.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise WorkspaceRefusal(f"{path}: outside the workspace; use paths inside {root}")
    if target.relative_to(root).parts[:1] == (STATE_DIR,):
        raise WorkspaceRefusal(f"{path}: {STATE_DIR}/ belongs to agent-factory; write elsewhere")
    return target


# ---------------------------------------------------------------- file_editor


class WorkspaceFileAction(Action):
    """Arguments of `file_editor`."""

    command: Literal["view", "create", "str_replace"] = Field(
        description="`view` a file or directory, `create` (or overwrite) a file with `file_text`, "
        "or `str_replace` the single occurrence of `old_str` with `new_str`"
    )
    path: str = Field(description="Path relative to the workspace")
    file_text: str | None = Field(default=None, description="The whole file, for `create`")
    old_str: str | None = Field(default=None, description="Text to replace (must occur exactly once), for `str_replace`")
    new_str: str | None = Field(default=None, description="Replacement text, for `str_replace`")


class WorkspaceFileObservation(Observation):
    """What `file_editor` reports back."""


class WorkspaceFileExecutor(ToolExecutor[WorkspaceFileAction, WorkspaceFileObservation]):
    """Carries out `file_editor` calls inside `workspace`."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace

    def __call__(self, action: WorkspaceFileAction, conversation=None) -> WorkspaceFileObservation:  # noqa: ARG002
        try:
            text = self._run(action, inside(self.workspace, action.path))
        except (WorkspaceRefusal, OSError, UnicodeDecodeError) as exc:
            return WorkspaceFileObservation.from_text(text=str(exc), is_error=True)
        return WorkspaceFileObservation.from_text(text=text)

    def _run(self, action: WorkspaceFileAction, target: Path) -> str:
        if action.command == "view":
            return _view(target, self.workspace.resolve())
        if action.command == "create":
            if action.file_text is None:
                raise WorkspaceRefusal("create needs file_text")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(action.file_text, encoding="utf-8")
            return f"wrote {action.path} ({len(action.file_text)} characters)"
        return _replace(target, action)


def _view(target: Path, root: Path) -> str:
    if target.is_dir():
        names = sorted(p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in target.iterdir())
        return "\n".join(names) or "(empty directory)"
    lines = target.read_text(encoding="utf-8").splitlines()
    return truncate("\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, start=1)), VIEW_LIMIT)


def _replace(target: Path, action: WorkspaceFileAction) -> str:
    if not action.old_str:
        raise WorkspaceRefusal("str_replace needs a non-empty old_str")
    text = target.read_text(encoding="utf-8")
    count = text.count(action.old_str)
    if count != 1:
        raise WorkspaceRefusal(f"old_str occurs {count} times in {action.path}; it must occur exactly once")
    target.write_text(text.replace(action.old_str, action.new_str or ""), encoding="utf-8")
    return f"edited {action.path}"


class WorkspaceFileTool(ToolDefinition[WorkspaceFileAction, WorkspaceFileObservation]):
    """`file_editor`: view, create and edit files in the workspace."""

    name: ClassVar[str] = "file_editor"

    @classmethod
    def create(cls, conv_state: ConversationState | None = None, **params) -> Sequence[WorkspaceFileTool]:
        """One tool bound to the conversation's workspace."""
        workspace = Path(conv_state.workspace.working_dir) if conv_state else Path.cwd()
        return [
            cls(
                description="View, create and edit files in the workspace. Paths are relative to the workspace.",
                action_type=WorkspaceFileAction,
                observation_type=WorkspaceFileObservation,
                executor=WorkspaceFileExecutor(workspace),
                annotations=ToolAnnotations(title="file_editor", readOnlyHint=False, destructiveHint=True, openWorldHint=False),
            )
        ]


# ---------------------------------------------------------------- terminal


class WorkspaceShellAction(Action):
    """Arguments of `terminal`."""

    command: str = Field(description="A shell command, run with the workspace as the current directory")
    timeout: int = Field(default=120, ge=1, le=MAX_COMMAND_TIMEOUT_S, description="Seconds before the command is killed")


class WorkspaceShellObservation(Observation):
    """What `terminal` reports back: the exit code and output."""


class WorkspaceShellExecutor(ToolExecutor[WorkspaceShellAction, WorkspaceShellObservation]):
    """Runs `terminal` commands in `workspace` (each in a fresh shell)."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace

    def __call__(self, action: WorkspaceShellAction, conversation=None) -> WorkspaceShellObservation:  # noqa: ARG002
        try:
            code, output, timed_out = run_shell(action.command, self.workspace, action.timeout)
        except OSError as exc:
            return WorkspaceShellObservation.from_text(text=f"could not start: {exc}", is_error=True)
        status = f"[timed out after {action.timeout} s]" if timed_out else f"[exit code {code}]"
        return WorkspaceShellObservation.from_text(text=f"{truncate(output, TERMINAL_OUTPUT_LIMIT)}\n{status}", is_error=code != 0)


class WorkspaceShellTool(ToolDefinition[WorkspaceShellAction, WorkspaceShellObservation]):
    """`terminal`: run shell commands in the workspace."""

    name: ClassVar[str] = "terminal"

    @classmethod
    def create(cls, conv_state: ConversationState | None = None, **params) -> Sequence[WorkspaceShellTool]:
        """One tool bound to the conversation's workspace."""
        workspace = Path(conv_state.workspace.working_dir) if conv_state else Path.cwd()
        return [
            cls(
                description="Run a shell command in the workspace and see its output and exit code. "
                "Each command starts a fresh shell in the workspace (a `cd` does not persist).",
                action_type=WorkspaceShellAction,
                observation_type=WorkspaceShellObservation,
                executor=WorkspaceShellExecutor(workspace),
                annotations=ToolAnnotations(title="terminal", readOnlyHint=False, destructiveHint=True, openWorldHint=True),
            )
        ]


# Registry keys are ours, so they never clash with openhands-tools' registrations;
# the model sees the tools' own names (`file_editor`, `terminal`).
REGISTRY = {"file_editor": "agent_factory.file_editor", "terminal": "agent_factory.terminal"}
register_tool(REGISTRY["file_editor"], WorkspaceFileTool)
register_tool(REGISTRY["terminal"], WorkspaceShellTool)
