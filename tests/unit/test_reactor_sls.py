"""The reactor SLS (salt/hapair/reactor/*.sls) rendered as the master renders it: which events start a
remediation, and with what arguments. Rendered with Salt's own jinja renderer (``jinja|yaml``)."""

import os

import pytest
import yaml
from conftest import ROOT

templates = pytest.importorskip("salt.utils.templates", reason="Salt is not installed (make venv)")


@pytest.fixture
def render(tmp_path):
    import salt.config  # noqa: PLC0415 - after the importorskip above

    opts = dict(salt.config.DEFAULT_MASTER_OPTS, cachedir=str(tmp_path), file_client="local",
                file_roots={"base": [os.path.join(ROOT, "salt")]})

    def run(name, tag, data):
        with open(os.path.join(ROOT, "salt", "hapair", "reactor", name), encoding="utf-8") as handle:
            text = handle.read()
        out = templates.render_jinja_tmpl(text, {"tag": tag, "data": data, "opts": opts, "saltenv": "base",
                                                 "sls": name})
        return yaml.safe_load(out) or {}
    return run


def beacon_event(kind, connection="Connected", role="Primary"):
    """What the master's reactor sees for ``event.send`` from a minion's drbd beacon."""
    new = {"present": True, "role": role, "disk": "UpToDate", "connection": connection}
    return f"hapair/drbd/r0/{kind}", {"id": "node1", "_stamp": "2026-12-02T05:00:00.000000",
                                      "data": {"resource": "r0", "kind": kind, "topology": "web", "new": new}}


CASES = [
    # (kind, new connection, remediation started?)
    ("connection", "StandAlone", False),      # its `standalone` event (below) is the one acted on
    ("connection", "Connected", True),        # a rejoined dual-primary node may need promoting
    ("connection", "WFConnection", False),    # a link cut: the runner could only say "waiting"
    ("connection", "WFReportParams", False),  # a handshake under way
    ("connection", "Connecting", False),      # DRBD 9's name for it
    ("standalone", "StandAlone", True),
    ("split-brain", "StandAlone", True),
    ("present", None, True),
    ("role", "Connected", True),
    ("replication", "Connected", False),      # detail kinds: never acted on
    ("peer-role", "Connected", False),
    ("sync", "Connected", False),             # drbd.wait_synced progress
]


@pytest.mark.parametrize("kind,connection,started", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_which_events_start_a_remediation(render, kind, connection, started):
    tag, data = beacon_event(kind, connection)
    out = render("drbd.sls", tag, data)
    assert bool(out) is started, out
    if started:
        (state,) = out.values()
        args = {k: v for item in state["runner.hapair.remediate"][0]["args"] for k, v in item.items()}
        assert args["resource"] == "r0" and args["topology"] == "web" and args["minion"] == "node1"
        assert args["tag"] == tag and args["event"]["kind"] == kind and args["event"]["_stamp"] == data["_stamp"]


def test_a_minion_start_looks_at_every_topology_of_that_minion(render):
    out = render("minion_start.sls", "salt/minion/node2/start", {"id": "node2", "_stamp": "2026-12-02T05:00:00"})
    (state,) = out.values()
    args = {k: v for item in state["runner.hapair.remediate"][0]["args"] for k, v in item.items()}
    assert args == {"minion": "node2", "tag": "salt/minion/node2/start",
                    "event": {"kind": "minion-start", "_stamp": "2026-12-02T05:00:00"}}


# --------------------------------------------------------------------------- hostile tags and payloads
# Any minion can ``event.send`` any tag and payload; the master renders the reactor SLS with them.
# Rendered by Salt's real pipeline (``salt.template.compile_template``, renderer ``jinja|yaml``, as
# ``salt.utils.reactor.Reactor.render_reaction`` does), the result is nothing or exactly one
# ``runner.hapair.remediate`` whose arguments are data that passes ``hapair.fields``.

INJECTED = "x:\n  local.cmd.run:\n    - tgt: '*'\n    - arg: [id]\nz"
HOSTILE_RESOURCES = [
    INJECTED, "r0\n", "r0:", "r0: {a: b}", "{{ 7*7 }}", "{% raw %}", "r0'\"", "*", "r0,r1", "r0 r1",
    "-r0", "r0\r", "r0\x00", "", "r" * 300, "a\n- local.cmd.run", "r0\u2028", "#r0", "r0#x", "${x}",
]
HOSTILE_VALUES = [
    INJECTED, "node2\n", "node2,node3", "*", "node 2", "{{ 7*7 }}", "'", "\"", "a: b", "-n", "n" * 300,
    "node2\r", "L@node1,node2", "web\n  tgt: '*'", None, 7, ["x"], {"a": "b"}, True,
]


@pytest.fixture(scope="module")
def compile_sls(tmp_path_factory):
    import salt.config  # noqa: PLC0415 - after the importorskip above
    import salt.loader  # noqa: PLC0415
    import salt.template  # noqa: PLC0415

    opts = dict(salt.config.DEFAULT_MASTER_OPTS, cachedir=str(tmp_path_factory.mktemp("cache")),
                file_client="local", file_roots={"base": [os.path.join(ROOT, "salt")]})
    renderers = salt.loader.render(opts, {})

    def run(name, tag, data):
        path = os.path.join(ROOT, "salt", "hapair", "reactor", name)
        return salt.template.compile_template(path, renderers, "jinja|yaml", opts["renderer_blacklist"],
                                              opts["renderer_whitelist"], saltenv="base", tag=tag, data=data)
    return run


def assert_one_remediation_or_nothing(high, tag):
    """Nothing, or one ``runner.hapair.remediate`` with validated data arguments (and the tag as-is)."""
    from hapair import fields  # noqa: PLC0415

    if not high:
        return None
    assert len(high) == 1, high
    (state_id, body), = high.items()
    assert fields.is_name(state_id), state_id
    assert list(body) == ["runner.hapair.remediate"], body
    (args_item,) = body["runner.hapair.remediate"]
    assert list(args_item) == ["args"], args_item
    args = {}
    for item in args_item["args"]:
        (key, value), = item.items()
        args[key] = value
    assert set(args) <= {"resource", "minion", "topology", "tag", "event"}, args
    assert args["tag"] == tag
    if "resource" in args:
        assert fields.is_name(args["resource"]), args
    assert fields.is_minion_id(args["minion"]), args
    if "topology" in args:
        assert fields.is_name(args["topology"]), args
    assert set(args["event"]) <= {"kind", "_stamp", "new"}, args
    return args


@pytest.mark.parametrize("resource", HOSTILE_RESOURCES, ids=range(len(HOSTILE_RESOURCES)))
@pytest.mark.parametrize("kind", ["split-brain", "connection"])
def test_a_hostile_tag_never_reaches_the_sls_text(compile_sls, resource, kind):
    tag = f"hapair/drbd/{resource}/{kind}"
    data = {"id": "node2", "_stamp": "2026-12-02T05:00:00.000000",
            "data": {"topology": "web", "new": {"connection": "Connected", "role": "Primary"}}}
    high = compile_sls("drbd.sls", tag, data)
    assert assert_one_remediation_or_nothing(high, tag) is None, high  # none of these is a resource name


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
@pytest.mark.parametrize("field", ["id", "topology", "role", "_stamp", "connection"])
def test_hostile_payload_fields_are_data_or_no_reaction(compile_sls, field, value):
    tag = "hapair/drbd/r0/split-brain"
    data = {"id": "node2", "_stamp": "2026-12-02T05:00:00.000000",
            "data": {"topology": "web", "new": {"connection": "StandAlone", "role": "Primary"}}}
    if field in ("id", "_stamp"):
        data[field] = value
    elif field == "topology":
        data["data"]["topology"] = value
    else:
        data["data"]["new"][field] = value
    args = assert_one_remediation_or_nothing(compile_sls("drbd.sls", tag, data), tag)
    if args is None:
        return
    assert args["resource"] == "r0" and args["event"]["kind"] == "split-brain"
    assert args["event"]["new"]["role"] in ("Primary", "Secondary", "Unknown", None), args
    stamp = args["event"]["_stamp"]
    assert stamp is None or (isinstance(stamp, str) and len(stamp) <= 64 and "\n" not in stamp), args


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_a_hostile_minion_start_never_reaches_the_sls_text(compile_sls, value):
    for tag in (f"salt/minion/{value}/start", "salt/minion/node2/start"):
        high = compile_sls("minion_start.sls", tag, {"id": value, "_stamp": "2026-12-02T05:00:00"})
        assert assert_one_remediation_or_nothing(high, tag) is None, high


def test_a_minion_start_whose_tag_names_another_minion_starts_nothing(compile_sls):
    assert not compile_sls("minion_start.sls", "salt/minion/node1/start", {"id": "node2"})
    high = compile_sls("minion_start.sls", "salt/minion/node2/start", {"id": "node2"})
    assert assert_one_remediation_or_nothing(high, "salt/minion/node2/start")["minion"] == "node2"


def test_real_pipeline_still_starts_a_remediation_for_a_beacon_event(compile_sls):
    tag, data = beacon_event("split-brain", "StandAlone")
    args = assert_one_remediation_or_nothing(compile_sls("drbd.sls", tag, data), tag)
    assert args == {"resource": "r0", "minion": "node1", "topology": "web", "tag": tag,
                    "event": {"kind": "split-brain", "_stamp": data["_stamp"], "new": {"role": "Primary"}}}


def test_the_sls_acts_on_exactly_the_kinds_the_runner_accepts(compile_sls):
    """The reactor's Jinja mirrors ``hapair.events.ACTED_ON`` (the runner's gate, its one owner)."""
    events = pytest.importorskip("hapair.events")
    started = set()
    for kind in sorted(set(events.ACTED_ON) | {"sync", "replication", "peer-role", "peer-disk", "bogus"}):
        tag, data = beacon_event(kind)
        if compile_sls("drbd.sls", tag, data):
            started.add(kind)
    assert started == set(events.ACTED_ON)


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(resource=st.text(min_size=0, max_size=40), kind=st.sampled_from(["split-brain", "role", "x"]),
                  mid=st.one_of(st.none(), st.text(max_size=20)), topo=st.one_of(st.none(), st.text(max_size=20)))
def test_any_tag_and_payload_render_to_one_remediation_or_nothing(compile_sls, resource, kind, mid, topo):
    tag = f"hapair/drbd/{resource}/{kind}"
    high = compile_sls("drbd.sls", tag, {"id": mid, "data": {"topology": topo, "new": {"role": "Primary"}}})
    args = assert_one_remediation_or_nothing(high, tag)
    if args is not None:
        assert args["resource"] == resource and args["minion"] == mid


def test_the_reactor_list_names_the_namespaced_sls():
    """reactor.yaml (the lab master's ``reactor:``) and ``python3 -m hapair.saltext master-config``
    list the same SLS, each under salt://hapair/reactor/ and served from salt/hapair/reactor/."""
    import hapair.saltext  # noqa: PLC0415

    with open(os.path.join(ROOT, "salt", "hapair", "reactor", "reactor.yaml"), encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)
    listed = {tag: sls for entry in entries for tag, (sls,) in entry.items()}
    assert listed == hapair.saltext.REACTOR
    for sls in listed.values():
        assert sls.startswith("salt://hapair/reactor/"), sls
        assert os.path.isfile(os.path.join(ROOT, "salt", sls[len("salt://"):])), sls
    assert not os.path.exists(os.path.join(ROOT, "salt", "reactor"))
