"""One converge loop for every hapair state: facts, plan, then test or apply (Salt-free).

A state passes three callables and gets Salt's return dict back::

    ret = converge.converge(
        name,
        facts=lambda: __salt__["hapair_drbd.facts"](name),       # read the observed state
        plan=lambda facts: plan.plan_up(facts),          # pure: the steps that close the gap
        apply=lambda steps: [run(s) for s in steps],     # run them through __salt__
        test=__opts__.get("test"), errors=(CommandExecutionError, SaltInvocationError),
        done=f"{name}: resource is up")

- Empty plan: ``result: True``, no changes, comment ``done``.
- ``test=True``: ``result: None``, ``changes`` = ``changes(plan)``, comment ``would(plan)``.
- Else ``apply(plan)`` runs, the facts are read again and the plan must be empty; what is left is
  ``result: False`` naming it. ``changes`` are ``old -> new`` per field (``fold``), the same as
  under test unless ``applied`` reports what apply returned.

Errors, one taxonomy (``outcome``), looked up along the exception's chain so an execution
module's ``CommandExecutionError(str(err))`` raised from a core error keeps its kind:

- not ready yet (``hapair.errors.NotReadyError`` or a type in ``not_ready``): ``result: None``
  under test (an earlier state of the run may bring it), ``False`` when applying;
- refused (``hapair.errors.RefusedError``): ``False``; the message names the device and override;
- failed (anything in ``errors`` or a ``HapairError``): ``False`` with the error's message.

Every comment and change is masked with ``secrets``. Anything else propagates (a bug, not a state).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from hapair.errors import HapairError, NotReadyError, RefusedError
from hapair.secrets import mask

NOT_READY, REFUSED, FAILED = "not ready", "refused", "failed"
Errors = tuple[type[BaseException], ...]


def result(name: str) -> dict[str, Any]:
    """A state's return before it looks at anything: ``{"name", "result": True, "changes": {}, "comment": ""}``.

    >>> result("r0")
    {'name': 'r0', 'result': True, 'changes': {}, 'comment': ''}
    """
    return {"name": name, "result": True, "changes": {}, "comment": ""}


def fold(steps: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Fold steps ``{"key", "old", "new", ...}`` into ``changes``: ``{key: {"old": first old, "new": last new}}``.

    >>> fold([{"key": "role", "old": "Secondary", "new": "Primary"}, {"key": "role", "old": "x", "new": "Primary"}])
    {'role': {'old': 'Secondary', 'new': 'Primary'}}
    """
    out: dict[str, Any] = {}
    for item in steps:
        if item["key"] in out:
            out[item["key"]]["new"] = item["new"]
        else:
            out[item["key"]] = {"old": item["old"], "new": item["new"]}
    return out


def actions(steps: Any) -> str:
    """The plan as a short phrase: step actions of a list (``"up, connect"``), keys of a mapping.

    >>> actions([{"action": "up"}, {"action": "connect"}]), actions({"/etc/a": {}, "/etc/b": {}})
    ('up, connect', '/etc/a, /etc/b')
    """
    if isinstance(steps, Mapping):
        return ", ".join(str(key) for key in steps)
    return ", ".join(str(step["action"]) if isinstance(step, Mapping) else str(step) for step in steps)


def kind(err: BaseException, not_ready: Errors = ()) -> str:
    """``NOT_READY``, ``REFUSED`` or ``FAILED``: the first hapair kind along ``err``'s cause/context chain.

    >>> kind(RuntimeError("x")), kind(RefusedError("/dev/vdb", "ext4", "overwrite=True"))
    ('failed', 'refused')
    >>> kind(NotReadyError("r0", "the peer"))
    'not ready'
    """
    seen: set[int] = set()
    link: BaseException | None = err
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, (NotReadyError, *not_ready)):
            return NOT_READY
        if isinstance(link, RefusedError):
            return REFUSED
        link = link.__cause__ or link.__context__
    return FAILED


def outcome(err: BaseException, *, test: bool, not_ready: Errors = (), secrets: Sequence[str] = ()) -> dict[str, Any]:
    """What a state returns for ``err``: ``{"result", "comment", "changes": {}}`` (see the module docstring).

    >>> outcome(NotReadyError("r0", "a Connected peer"), test=True)["result"] is None
    True
    >>> outcome(NotReadyError("r0", "a Connected peer"), test=False)["result"]
    False
    """
    message = mask(str(err), list(secrets))
    if kind(err, not_ready) == NOT_READY and test:
        return {"result": None, "changes": {}, "comment": f"{message} (after earlier states apply)"}
    return {"result": False, "changes": {}, "comment": message}


def converge(
    name: str,
    facts: Callable[[], Any] | None,
    plan: Callable[[Any], Any],
    apply: Callable[[Any], Any],
    *,
    test: bool,
    done: str | Callable[[], str] = "",
    changes: Callable[[Any], dict[str, Any]] = fold,
    applied: Callable[[Any, Any], dict[str, Any]] | None = None,
    would: Callable[[Any], str] | None = None,
    did: Callable[[Any, Any], str] | None = None,
    residue: Callable[[Any, Any], str] | None = None,
    errors: Errors = (),
    not_ready: Errors = (),
    secrets: Sequence[str] | Callable[[], Sequence[str]] = (),
) -> dict[str, Any]:
    """Run one state: ``plan(facts())``, then test or ``apply(plan)`` and check ``plan(facts())`` is empty.

    ``done`` (or a callable returning it) is the comment when the plan is empty.
    ``facts`` None: ``plan`` reads the facts itself (an execution module's ``plan_*``) and gets None.
    A plan is a list of steps or a mapping; empty means converged. ``would(plan)`` and
    ``did(plan, applied_value)`` make the comments (default ``"<name>: would run <actions>"`` and
    ``"<name>: ran <actions>"``); ``residue(plan, left)`` the comment when a plan is left after
    apply. ``applied(plan, applied_value)`` gives the changes after apply when apply reports them
    (default: the planned ones); the facts are read again all the same. ``secrets`` (or a
    callable returning them, read once the plan is made) are masked everywhere.
    """
    ret = result(name)
    shown: Sequence[str] = ()

    def observe() -> Any:
        return plan(facts() if facts is not None else None)

    try:
        steps = observe()
        shown = list(secrets() if callable(secrets) else secrets)
        if not steps:
            ret["comment"] = mask((done() if callable(done) else done) or f"{name} is in the wanted state", list(shown))
            return ret
        ret["changes"] = changes(steps)
        if test:
            ret.update(result=None, comment=would(steps) if would else f"{name}: would run {actions(steps)}")
        else:
            value = apply(steps)
            if applied is not None:
                ret["changes"] = applied(steps, value)
            left = observe()
            if left:
                ret.update(result=False, comment=residue(steps, left) if residue else
                           f"{name}: ran {actions(steps)} but still needs {actions(left)}")
            else:
                ret["comment"] = did(steps, value) if did else f"{name}: ran {actions(steps)}"
        ret.update(changes=mask(ret["changes"], list(shown)), comment=mask(ret["comment"], list(shown)))
    except (HapairError, *errors) as err:
        shown = shown or list(secrets() if callable(secrets) else secrets)
        ret.update(outcome(err, test=test, not_ready=not_ready, secrets=shown))
    return ret


def wait_until(
    name: str,
    probe: Callable[[], Mapping[str, Any]],
    *,
    ready: Callable[[Mapping[str, Any]], bool],
    seen: Callable[[Mapping[str, Any]], str],
    test: bool,
    timeout: float,
    interval: float,
    done: Callable[[Mapping[str, Any]], str],
    waiting: str,
    errors: Errors = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """A waiting state: ``probe()`` until ``ready``; not ready yet is None under test, False after ``timeout``.

    A probe raising one of ``errors`` counts as not ready (``{"error": message}``); ``seen(status)``
    describes what was seen (the error's message when the probe failed), ``done(status)`` is the
    comment once ready, ``waiting`` names what is awaited (``"quorate"``).
    """
    ret = result(name)
    deadline = clock() + float(timeout)
    while True:
        try:
            status = dict(probe())
        except errors as err:
            status = {"error": str(err)}
        if ready(status):
            ret["comment"] = done(status)
            return ret
        what = status["error"] if "error" in status else seen(status)
        if test:
            ret.update(result=None, comment=f"not {waiting} yet; the state would wait up to {timeout}s ({what})")
            return ret
        if clock() >= deadline:
            ret.update(result=False, comment=f"not {waiting} after {timeout}s: {what}")
            return ret
        sleep(float(interval))


#: The cluster filesystems ``formatted`` knows: execution functions, reported fields, comments.
FILESYSTEMS: dict[str, dict[str, Any]] = {
    "ocfs2": {"plan": "ocfs2.plan_format", "mkfs": "ocfs2.mkfs", "fields": ("device", "label", "slots", "cluster_name"),
              "done": "{name} is OCFS2 already, or is formatted by its format node",
              "did": "{device} formatted as OCFS2"},
    "gfs2": {"plan": "gfs2.plan", "mkfs": "gfs2.mkfs", "fields": ("device", "lock_table", "journals"),
             "done": "{name}: nothing to format here (GFS2 already, or made on its format_on node only)",
             "did": "{device} formatted as GFS2 {lock_table}"},
}


def formatted(salt: Mapping[str, Any], fs_kind: str, name: str, topology: str, overwrite: Any = False, *,
              test: bool, errors: Errors = ()) -> dict[str, Any]:
    """The ``<fs_kind>.formatted`` state (``"ocfs2"`` or ``"gfs2"``): mkfs at most once, on the format node.

    The plan is the execution module's (``[]`` or one ``mkfs`` step with its argv); apply is its
    ``mkfs``; then the plan is made again from the facts (blkid reads the new filesystem) and
    must be empty, else ``result: False`` naming the device.
    Changes: ``{"formatted": {field: value}}`` with ``FILESYSTEMS[fs_kind]["fields"]``, as mkfs reported them.
    """
    spec = FILESYSTEMS[fs_kind]

    def report(step: Mapping[str, Any]) -> dict[str, Any]:
        return {"formatted": {key: step[key] for key in spec["fields"]}}

    return converge(
        name, None, lambda _facts: salt[spec["plan"]](name, topology, overwrite=overwrite),
        lambda _steps: salt[spec["mkfs"]](name, topology, overwrite=overwrite), test=test,
        done=spec["done"].format(name=name), changes=lambda steps: report(steps[0]),
        applied=lambda _steps, done: report(done) if done["formatted"] else {},
        would=lambda steps: f"{steps[0]['device']} would be formatted: {' '.join(steps[0]['argv'])}",
        did=lambda _steps, done: spec["did"].format(**done),
        residue=lambda steps, _left: f"{steps[0]['device']}: mkfs ran but the device still does not read back "
                                     f"as {fs_kind} as wanted (blkid)",
        errors=errors)
