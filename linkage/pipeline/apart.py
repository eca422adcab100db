"""A step run in a forked child process, so that the memory it leaves behind goes with it.

Why: `survivor-link run` ingests, then links in the same process. An ingest of a million
records leaves about 1.2 GiB resident when it ends (normalisers' caches, Great
Expectations, the heap the rows were mapped in, which Python keeps), and the link's peak
came on top of it (4.5 GiB in all, over the 4 GiB target). Run in a child, the ingest's
memory is returned to the system when the child exits; the link starts from what the
parent held before it. The child runs the same code on the same store: the results are
the same. Where fork does not exist (Windows) or SURVIVOR_LINK_STEP_IN_PROCESS is set,
the step runs in this process as before.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
IN_PROCESS = "SURVIVOR_LINK_STEP_IN_PROCESS"


class StepDied(RuntimeError):
    """The child running a step ended without a result (killed, or out of memory)."""


def apart(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) run in a forked child; its result (or its exception) returned here."""
    if not hasattr(os, "fork") or os.environ.get(IN_PROCESS, "") not in ("", "0"):
        return fn(*args)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, fn, args), name="survivor-link step")
    child.start()
    send.close()
    try:
        kind, value = receive.recv()
    except EOFError:
        child.join()
        raise StepDied(f"the step's process ended with exit code {child.exitcode} and no result") from None
    finally:
        receive.close()
    child.join()
    if kind == "error":
        raise value
    return value


def _child(send: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the child: fresh database connections (the parent's stay the parent's), then fn."""
    from linkage.store.db import forget_engines_after_fork

    forget_engines_after_fork()
    try:
        result = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        result = ("error", exc)
    try:
        send.send(result)
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled: named by its kind
        kind = type(result[1]).__name__
        send.send(("error", StepDied(f"the step failed with {kind} (its details could not be passed on)")))
    finally:
        send.close()
