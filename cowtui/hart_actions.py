"""The app on several harts (a mixin of CowtuiApp): ``h`` shows the next
hart in the CPU pane, and ``s`` then steps that hart (it becomes the one
that runs, starting a fresh turn: the schedule changes from there on). The
status bar names the hart that runs. With one hart ``h`` only says so.
"""

from __future__ import annotations

from textual.binding import Binding

HART_BINDING = Binding("h", "next_hart", "Hart", show=False, id="cowtui.next-hart",
                       tooltip="Show the next hart in the CPU pane (several harts); "
                               "s then steps that hart")


class HartActions:
    def action_next_hart(self) -> None:
        machine = self.session.machine
        if len(machine.harts) == 1:
            self.notify("one hart: nothing to choose (--harts N runs several)", timeout=3)
            return
        if self.refuse_while_running():
            return
        shown = self.builder.viewed_hart
        current = machine.hart.hartid if shown is None else shown
        following = (current + 1) % len(machine.harts)
        self.builder.viewed_hart = None if following == machine.hart.hartid else following
        self.query_one("CpuView").show(self.builder.cpu(self.builder.viewed_hart),
                                       None, self.breakpoints.enabled)

    def run_chosen_hart(self) -> None:
        """Before a step: the hart the CPU pane shows runs it."""
        shown, self.builder.viewed_hart = self.builder.viewed_hart, None
        if shown is not None:
            with self.session.lock:
                self.session.machine.run_hart_next(shown)

    def running_hart(self) -> int | None:
        """For the status bar: the hart that runs, on a machine of several."""
        machine = self.session.machine
        return machine.hart.hartid if len(machine.harts) > 1 else None
