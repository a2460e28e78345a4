"""hapair.converge: one table of (facts over time, test flag, error) -> the state's return.

No Salt: the facts are a list the fake ``apply`` moves through, so "re-read the facts" is real.
"""

from __future__ import annotations

import pytest
from hapair import converge
from hapair.errors import HapairError, NotReadyError, RefusedError


class ToolError(Exception):
    """Stands in for Salt's CommandExecutionError (the adapters pass their own types in ``errors``)."""


def plan(facts):
    """Desired: role Primary. Raises what the facts carry under ``raise``."""
    if "raise" in facts:
        raise facts["raise"]
    if facts["role"] == "Primary":
        return []
    return [{"action": "primary", "key": "role", "old": facts["role"], "new": "Primary"}]


def run(name, observed, *, test, after=None, apply_raises=None, **kwargs):
    """Converge over ``observed`` (the facts now) and ``after`` (the facts once apply ran)."""
    state = {"facts": observed, "applied": []}

    def apply(steps):
        if apply_raises is not None:
            raise apply_raises
        state["applied"].append([s["action"] for s in steps])
        state["facts"] = after if after is not None else observed

    ret = converge.converge(name, lambda: state["facts"], plan, apply, test=test, done=f"{name}: already Primary",
                            errors=(ToolError,), **kwargs)
    return ret, state["applied"]


ROLE = {"role": {"old": "Secondary", "new": "Primary"}}
SECONDARY, PRIMARY = {"role": "Secondary"}, {"role": "Primary"}
NOT_READY = NotReadyError("r0", "a Connected peer")
REFUSED = RefusedError("/dev/vdb", "it carries an ext4 signature", "overwrite_data=True")
FAILED = ToolError("drbdadm primary r0 failed (exit 11): State change failed")

# (case, facts now, test, facts after apply, apply raises, result, changes, comment contains, applied)
CASES = [
    ("converged", PRIMARY, False, None, None, True, {}, "r0: already Primary", []),
    ("converged under test", PRIMARY, True, None, None, True, {}, "r0: already Primary", []),
    ("test mode: the plan, nothing run", SECONDARY, True, None, None, None, ROLE, "r0: would run primary", []),
    ("apply ok: facts re-read, plan empty", SECONDARY, False, PRIMARY, None, True, ROLE, "r0: ran primary",
     [["primary"]]),
    ("apply leaves a residue", SECONDARY, False, SECONDARY, None, False, ROLE,
     "r0: ran primary but still needs primary", [["primary"]]),
    ("not ready under test", {"raise": NOT_READY}, True, None, None, None, {},
     "r0: not ready yet, waiting for a Connected peer (after earlier states apply)", []),
    ("not ready when applying", {"raise": NOT_READY}, False, None, None, False, {},
     "r0: not ready yet, waiting for a Connected peer", []),
    ("refused under test", {"raise": REFUSED}, True, None, None, False, {}, "pass overwrite_data=True", []),
    ("refused when applying", {"raise": REFUSED}, False, None, None, False, {},
     "refusing on /dev/vdb: it carries an ext4 signature", []),
    ("failed while planning", {"raise": FAILED}, True, None, None, False, {}, "State change failed", []),
    ("failed while applying", SECONDARY, False, None, FAILED, False, {}, "drbdadm primary r0 failed", []),
    ("a core error is a failure", {"raise": HapairError("cannot parse")}, False, None, None, False, {},
     "cannot parse", []),
]


@pytest.mark.parametrize("case, observed, test, after, raises, result, changes, comment, applied", CASES,
                         ids=[c[0] for c in CASES])
def test_converge(case, observed, test, after, raises, result, changes, comment, applied):
    ret, ran = run("r0", observed, test=test, after=after, apply_raises=raises)
    assert ret["name"] == "r0", case
    assert ret["result"] is result, (case, ret)
    assert ret["changes"] == changes, (case, ret)
    assert comment in ret["comment"], (case, ret)
    assert ran == applied, case


def test_test_mode_and_a_real_run_report_the_same_changes():
    dry, _ = run("r0", SECONDARY, test=True)
    real, _ = run("r0", SECONDARY, test=False, after=PRIMARY)
    assert dry["changes"] == real["changes"] == ROLE


def test_a_kind_is_found_along_the_chain_of_a_wrapping_error():
    """An execution module raising CommandExecutionError(str(err)) inside ``except`` keeps the kind."""
    def wrapped(inner):
        try:
            raise inner
        except HapairError as err:
            try:
                raise ToolError(str(err))
            except ToolError as outer:
                return outer
    assert converge.kind(wrapped(NOT_READY)) == converge.NOT_READY
    assert converge.kind(wrapped(REFUSED)) == converge.REFUSED
    assert converge.kind(ToolError("x")) == converge.FAILED
    ret, _ = run("r0", {"raise": wrapped(NOT_READY)}, test=True)
    assert ret["result"] is None and ret["changes"] == {}


def test_an_extra_not_ready_type_is_honoured():
    class PlanError(HapairError):
        pass
    ret, _ = run("r0", {"raise": PlanError("resource r0 is not up")}, test=True, not_ready=(PlanError,))
    assert ret["result"] is None
    ret, _ = run("r0", {"raise": PlanError("resource r0 is not up")}, test=True)
    assert ret["result"] is False


def test_secrets_are_masked_in_changes_and_comments():
    ret, _ = run("r0", {"raise": ToolError("bad key s3cr3t")}, test=False, secrets=["s3cr3t"])
    assert "s3cr3t" not in ret["comment"] and ret["result"] is False
    ret, _ = run("r0", SECONDARY, test=True, secrets=lambda: ["Secondary"])
    assert "Secondary" not in repr(ret["changes"])


def test_an_unexpected_exception_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        run("r0", {"raise": ZeroDivisionError()}, test=False)


def test_applied_reports_apply_s_answer_and_the_facts_are_still_read_again():
    applied = {"role": {"old": "Secondary", "new": "Primary (applied)"}}
    ret, ran = run("r0", SECONDARY, test=False, after=PRIMARY, applied=lambda steps, value: applied)
    assert ret["result"] is True and ran == [["primary"]] and ret["changes"] == applied
    ret, _ = run("r0", SECONDARY, test=False, applied=lambda steps, value: applied,
                 residue=lambda steps, left: f"still {actions(left)}")
    assert ret["result"] is False and ret["comment"] == "still primary" and ret["changes"] == applied


def actions(steps):
    return ", ".join(s["action"] for s in steps)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def wait(answers, *, test, timeout=10):
    clock, seen = Clock(), iter(answers)

    def probe():
        answer = next(seen)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return converge.wait_until("corosync", probe, ready=lambda s: bool(s.get("quorate")),
                               seen=lambda s: f"{s.get('votes')} vote(s)", test=test, timeout=timeout, interval=4,
                               done=lambda s: f"quorate: {s['votes']} vote(s)", waiting="quorate",
                               errors=(ToolError,), clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize("answers, test, result, comment", [
    ([{"quorate": True, "votes": 2}], False, True, "quorate: 2 vote(s)"),
    ([{"quorate": False, "votes": 1}], True, None, "not quorate yet; the state would wait up to 10s (1 vote(s))"),
    ([ToolError("cannot connect"), {"quorate": True, "votes": 2}], False, True, "quorate: 2 vote(s)"),
    ([{"quorate": False, "votes": 1}] * 4, False, False, "not quorate after 10s: 1 vote(s)"),
    ([ToolError("cannot connect")] * 4, False, False, "not quorate after 10s: cannot connect"),
], ids=["ready", "not ready under test", "probe error then ready", "timeout", "timeout on errors"])
def test_wait_until(answers, test, result, comment):
    ret = wait(answers, test=test)
    assert ret["result"] is result and ret["comment"] == comment and ret["changes"] == {}
