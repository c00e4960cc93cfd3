"""The studio keeps each drop's warm-up window in step with its dates (``chalicelib.warming``), and
says on the drop's page what is scheduled."""

from __future__ import annotations

from chalicelib import wiring
from chalicelib.core.models import Drop
from chalicelib.studio.drops import local_time
from chalicelib.telemetry import logger
from chalicelib.warming.plan import warm_window


def keep_warm(drop: Drop) -> None:
    """Schedule, move or clear ``drop``'s window after a change to it. A schedule that cannot be
    changed is logged for the operator (the edit itself stands: a drop is not refused for it)."""
    schedule = wiring.warm_schedule()
    if schedule is None:
        return
    window = warm_window(drop, wiring.utcnow())
    try:
        if window is None:
            schedule.unschedule(drop.slug)
        else:
            schedule.schedule(window)
    except Exception as error:  # noqa: BLE001 - any AWS failure: the edit stands, the operator is told
        logger.warning(
            "warm-up not scheduled: the launch will start cold unless the drop is saved again",
            extra={"drop": drop.slug, "error": str(error)},
        )


def warm_words(drop: Drop, zone: str) -> str | None:
    """What is scheduled for ``drop``, in words and ``zone``'s time (None where nothing is deployed)."""
    schedule = wiring.warm_schedule()
    if schedule is None:
        return None
    try:
        window = next((w for w in schedule.windows() if w.drop == drop.slug), None)
    except Exception as error:  # noqa: BLE001 - the page still serves without it
        logger.warning("warm-up schedule unreadable", extra={"drop": drop.slug, "error": str(error)})
        return "The warm-up schedule could not be read just now."
    if window is None:
        return "No warm-up is scheduled (the drop is unpublished, or its first hour is over)."
    return (
        f"{window.instances} instances of the shop are kept warm from {local_time(window.starts, zone)} "
        f"to {local_time(window.ends, zone)}, so the launch starts without cold starts."
    )
