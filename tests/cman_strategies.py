"""Hypothesis strategy for valid two-node cman topologies, shared by the unit and validator tiers.

``from cman_strategies import cman_topologies``; ``base`` is a normalised cman topology (seed 004's).
"""

from __future__ import annotations

import copy

from hypothesis import strategies as st

NAME = st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)
AGENTS = ["fence_ipmilan", "fence_manual", "fence_apc"]


@st.composite
def cman_topologies(draw, base: dict, vms_without_domain: bool = False) -> dict:
    """Valid topologies: fence devices, failover domains over real nodes, vms in real domains.

    With ``vms_without_domain`` vms are drawn even when there is no failover domain (domain None).
    """
    names = draw(st.lists(NAME, min_size=2, max_size=2, unique=True))
    devices = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    domains = draw(st.lists(NAME, min_size=0, max_size=3, unique=True))
    topo = copy.deepcopy(base)
    topo["nodes"] = {n: {"name": n, "hostname": n, "cluster_node_id": i} for i, n in enumerate(names, 1)}
    topo["node_order"] = names
    c = topo["cluster"]["cman"]
    c["config_version"] = draw(st.integers(1, 10**6))
    c["cluster_id"] = draw(st.none() | st.integers(1, 65535))
    c["dlm"] = draw(st.sampled_from([{}, {"plock_ownership": 1, "plock_rate_limit": 0}]))
    c["gfs_controld"] = draw(st.sampled_from([{}, {"plock_rate_limit": 0}]))
    c["fence_devices"] = {d: {"name": d, "agent": draw(st.sampled_from(AGENTS)), "ipaddr": "192.0.2.9",
                              "login": "admin", "passwd": draw(st.text("abcXYZ019!<>&\"'", min_size=1, max_size=12))}
                          for d in devices}
    c["nodes"] = {n: {"nodeid": i, "votes": 1,
                      "fence": [{"method": "single", "devices": [{"name": draw(st.sampled_from(devices))}]}]}
                  for i, n in enumerate(names, 1)}
    c["failover_domains"] = {d: {"name": d, "restricted": draw(st.booleans()), "ordered": draw(st.booleans()),
                                 "nofailback": draw(st.booleans()),
                                 "nodes": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))}
                             for d in domains}
    max_vms = 4 if (domains or vms_without_domain) else 0
    vms = draw(st.lists(NAME, min_size=0, max_size=max_vms, unique=True))
    c["vms"] = {v: {"name": v, "domain": draw(st.sampled_from(domains)) if domains else None,
                    "autostart": draw(st.booleans())} for v in vms}
    c["services"] = {}
    return topo
