"""The latency timeline of the last turn: from the end of speech to the first audio out."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

BAR_CELLS = 32
"""Width of the proportional bar when there is room."""
MIN_BAR_CELLS = 8
"""Narrowest the bar gets to leave room for the times."""
STAGE_STYLES = ("$primary-lighten-1", "$secondary-lighten-2", "$accent", "$success", "$foreground")
"""Colours of the stages, in order; the legend uses the same ones."""

Milestone = tuple[str, float | None]
"""A milestone's name and its time in ms after the end of speech (None: it never came)."""


def bar_widths(times_ms: Sequence[float], cells: int = BAR_CELLS) -> list[int]:
    """Split ``cells`` between stages in proportion to how long each took.

    Args:
        times_ms: Milestone times after the end of speech, in increasing order.
        cells: Width of the whole bar.

    Returns:
        One width per stage (the gap before each milestone), each at least 1 cell.
    """
    if not times_ms:
        return []
    total = max(times_ms[-1], 1e-9)
    widths, previous_edge, previous_ms = [], 0, 0.0
    for ms in times_ms:
        edge = round(max(ms, previous_ms) / total * cells)
        widths.append(max(edge - previous_edge, 1))
        previous_edge, previous_ms = previous_edge + widths[-1], max(ms, previous_ms)
    return widths


class LatencyTimeline(Widget):
    """One line: a bar whose segments are the stages of the last turn, then their times."""

    milestones: reactive[tuple[Milestone, ...]] = reactive(())
    speculative: reactive[bool] = reactive(False)
    typed: reactive[bool] = reactive(False)

    def set_milestones(
        self, milestones: Sequence[Milestone], speculative: bool = False, typed: bool = False
    ) -> None:
        """Show a new turn's milestones (name, ms after the end of speech).

        Args:
            milestones: The marks in the order the stages run.
            speculative: Whether the answer came from work started at the tentative end.
            typed: The turn was typed: its marks count from when the text arrived.
        """
        self.speculative, self.typed = speculative, typed
        self.milestones = tuple(milestones)

    def render(self) -> Content:
        reached = sorted(
            ((name, ms) for name, ms in self.milestones if ms is not None), key=lambda m: m[1]
        )
        if not reached:
            if self.typed:
                return Content.styled("latency  typed, no reply", "$text-muted")
            return Content.styled("latency  no turn yet", "$text-muted")
        styles = STAGE_STYLES * 2
        legend: list[str | tuple[str, str]] = []
        for (name, ms), style in zip(reached, styles, strict=False):
            legend += [(f"{name} {ms:.0f}", style), " · "]
        legend[-1] = " ms"
        missing = [name for name, ms in self.milestones if ms is None]
        if missing:
            legend.append((f"  no {', '.join(missing)}", "$text-muted"))
        if self.speculative:
            legend.append(("  speculative", "$text-muted"))
        if self.typed:
            legend.append(("  typed", "$text-muted"))
        text = Content.assemble(*legend)
        room = self.size.width - len("latency ") - 2 - text.cell_length
        widths = bar_widths([ms for _, ms in reached], min(max(room, MIN_BAR_CELLS), BAR_CELLS))
        bar = [("█" * width, style) for width, style in zip(widths, styles, strict=False)]
        return Content.assemble(("latency ", "bold"), *bar, "  ", text)
