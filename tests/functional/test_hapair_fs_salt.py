"""hapair_fs through ``salt-call --local``: the real loader finds the module (``format`` by its
alias) and the states, and a topology without the group is an error naming it, not a traceback.

The planners and the module's steps are proved in tests/unit/test_localfs*.py; the lab runs the
whole preparation (tests/lab, seed 002).
"""


def test_sys_doc_lists_every_function_with_a_cli_example(cluster):
    doc = cluster["node1"].call("sys.doc", "hapair_fs")
    names = {"facts", "format", "format_facts", "plan_format", "plan_prepare", "prepare"}
    assert names == {k.split(".", 1)[1] for k in doc}
    assert [k for k, v in doc.items() if "CLI Example" not in (v or "")] == []


def test_states_load(cluster):
    found = cluster["node1"].call("sys.list_state_functions", "hapair_fs")
    assert set(found) == {"hapair_fs.formatted", "hapair_fs.prepared"}


def test_unknown_group_is_a_state_failure_naming_it(cluster):
    ret = cluster["node1"].state("hapair_fs.prepared", name="www", test=True)
    assert ret["result"] is False and "no group 'www'" in ret["comment"] and ret["changes"] == {}
