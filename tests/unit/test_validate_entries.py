"""hapair.validate's one "name -> mapping with known keys" walker (``_Checker.entries``), used by every
section (nodes, resources, filesystems, groups, lvm, partitions, cman nodes and domains, unison)."""

from __future__ import annotations

from hapair import validate


def walk(value, **kwargs):
    checker = validate._Checker("t")
    seen = [(name, path) for name, path, _entry in checker.entries(value, ("sec",), ("a", "b"), "{a, b}", **kwargs)]
    return seen, [str(err) for err in checker.errors]


def test_a_good_section_yields_each_entry_with_its_path():
    assert walk({"x": {"a": 1}, "y": {"b": 2}}, key="entry name") == ([("x", ("sec", "x")), ("y", ("sec", "y"))], [])


def test_bad_names_unknown_keys_and_non_mappings_are_errors_in_order():
    seen, errors = walk({"bad name": {"a": 1}, "x": {"c": 1}, "y": "text", "z": None}, key="entry name")
    assert seen == [("x", ("sec", "x"))]
    assert errors == [
        "hapair:topologies:t:sec:bad name: 'bad name' is not a valid entry name (use letters, digits, '.', "
        "'_', '+' and '-', starting with a letter or digit)",
        "hapair:topologies:t:sec:x:c: unknown key (allowed: a, b)",
        "hapair:topologies:t:sec:y: must be {a, b}, not str (write it as {a, b})",
        "hapair:topologies:t:sec:z: is required (set it to {a, b})",
    ]


def test_a_bad_name_is_still_walked_unless_skipped_and_null_may_be_allowed():
    def never(name, path):
        return False
    assert walk({"x": {"a": 1}}, key=never, skip_bad_keys=False)[0] == [("x", ("sec", "x"))]
    assert walk({"x": {"a": 1}}, key=never)[0] == []
    assert walk({"x": None}, required=False) == ([], [])
