"""Errors raised by hapair's core. Adapters turn them into Salt's exceptions."""

from __future__ import annotations

from dataclasses import dataclass


class HapairError(Exception):
    """Base class of every error hapair's core raises."""


@dataclass(frozen=True)
class TopologyError:
    """One problem in the pillar topology: where it is, what is wrong, how to fix it."""

    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ValidationError(HapairError):
    """The topology is invalid; ``errors`` holds every problem found, not just the first."""

    def __init__(self, errors: list[TopologyError]):
        self.errors = list(errors)
        lines = "\n".join(f"  - {err}" for err in self.errors)
        super().__init__(f"invalid hapair topology ({len(self.errors)} error(s)):\n{lines}")


class ParseError(HapairError):
    """A tool printed something a parser cannot read; names the line."""

    def __init__(self, tool: str, line_no: int, line: str, message: str):
        self.tool, self.line_no, self.line = tool, line_no, line
        super().__init__(f"cannot parse {tool} output, line {line_no}: {message}: {line!r}")


class RefusedError(HapairError):
    """A guarded, destructive step was refused because data could be lost.

    The message names the device (or resource) and the explicit override that would allow it.
    """

    def __init__(self, device: str, reason: str, override: str):
        self.device, self.reason, self.override = device, reason, override
        super().__init__(f"refusing on {device}: {reason}; to proceed anyway pass {override}")


class RenderError(HapairError):
    """A value about to be written into a file, a command or a target fails its field's whitelist.

    Validation refuses such values first, with their pillar path; this is the renderer's own refusal
    for a value that reached it some other way. The message names the field and the rule.
    """


class NotReadyError(HapairError):
    """The wanted state cannot be reached yet: it waits for something another state, the peer or
    time brings (DRBD Connected, the peer UpToDate, quorum). Not a refusal: there is no override.

    A state reports it as ``result: None`` under ``test=True`` (an earlier state of the same run
    may bring it) and ``result: False`` when applying. ``waits_for`` says what it waits for.
    """

    def __init__(self, what: str, waits_for: str):
        self.what, self.waits_for = what, waits_for
        super().__init__(f"{what}: not ready yet, waiting for {waits_for}")
