"""orch.hapair.bootstrap for stack corosync (issue 6): lab_gfs2 renders corosync -> quorate gate ->
dlm -> dlm_up gate before mkfs/mount of its GFS2 filesystem, in one strict requisite chain, and the
node SLS files pick the gfs2 states (``salt-call --local state.show_sls``, no daemons)."""

import pytest
from test_orch_render import chain, show_sls  # noqa: F401 - show_sls is the module-scoped fixture

pytestmark = pytest.mark.integration

GFS2_CHAIN = ["validate", "drbd-up", "roles", "gate-roles", "corosync", "gate-quorate", "dlm", "gate-dlm-up", "mkfs", "mount",
              "gate-mounted", "canary"]


def _arg(body, key):
    return next(i[key] for i in body["salt"] if isinstance(i, dict) and key in i)


def test_lab_gfs2_bootstrap_chain(show_sls):  # noqa: F811
    steps = show_sls("orch.hapair.bootstrap", "lab_gfs2")
    assert chain(steps) == GFS2_CHAIN
    assert _arg(steps["hapair-bootstrap-gate-quorate"], "condition") == "quorate"
    assert _arg(steps["hapair-bootstrap-gate-dlm-up"], "condition") == "dlm_up"
    assert _arg(steps["hapair-bootstrap-gate-mounted"], "filesystem") == ["gfs2-00", "gfs2-01"]
    assert _arg(steps["hapair-bootstrap-dlm"], "pillar")["step"] == "dlm"


def test_lab_gfs2_node_steps(show_sls):  # noqa: F811
    packages = show_sls("orch.hapair.node.step", "lab_gfs2", "drbd-up")
    pkgs = _arg({"salt": packages["hapair-orch-packages-installed"]["pkg"]}, "pkgs")
    assert {"gfs2-utils", "corosync", "dlm-controld"} <= set(pkgs) and "ocfs2-tools" not in pkgs
    corosync = show_sls("orch.hapair.node.step", "lab_gfs2", "corosync")
    assert sorted(corosync) == ["hapair-orch-corosync-authkey-managed", "hapair-orch-corosync-configured",
                                "hapair-orch-corosync-node-done", "hapair-orch-corosync-running"]
    assert "corosync.conf" in corosync["hapair-orch-corosync-configured"]["corosync"][0]["name"]
    dlm = show_sls("orch.hapair.node.step", "lab_gfs2", "dlm")
    assert sorted(dlm) == ["hapair-orch-dlm-configured", "hapair-orch-dlm-node-done", "hapair-orch-dlm-running",
                           "hapair-orch-fence-checked"]                # the lab's ipmi_sim BMCs answer first
    mkfs = show_sls("orch.hapair.node.step", "lab_gfs2", "mkfs")
    assert sorted(mkfs) == ["hapair-orch-gfs2-gfs2-00-formatted", "hapair-orch-gfs2-gfs2-01-formatted",
                            "hapair-orch-mkfs-node-done"]
    mount = show_sls("orch.hapair.node.step", "lab_gfs2", "mount")
    assert sorted(mount) == ["hapair-orch-gfs2-gfs2-00-mounted", "hapair-orch-gfs2-gfs2-01-mounted",
                             "hapair-orch-mount-node-done"]


def test_lab_web_still_orders_ocfs2_boot_units(show_sls):  # noqa: F811
    mount = show_sls("orch.hapair.node.step", "lab_web", "mount")
    assert "hapair-orch-ocfs2-boot-ordered" in mount and "hapair-orch-ocfs2-www-mounted" in mount


def test_formula_corosync_orders_the_stack(show_sls):  # noqa: F811
    steps = show_sls("hapair.corosync", "lab_gfs2")
    assert sorted(steps) == ["hapair-corosync-authkey-managed", "hapair-corosync-config-managed",
                             "hapair-corosync-packages-installed", "hapair-corosync-quorate",
                             "hapair-corosync-service-running", "hapair-dlm-config-managed",
                             "hapair-dlm-service-running"]
    dlm = steps["hapair-dlm-service-running"]["service"]
    requires = next(i["require"] for i in dlm if isinstance(i, dict) and "require" in i)
    assert {"corosync": "hapair-corosync-quorate"} in requires  # dlm only once quorate
    assert {"enable": True} in dlm and {"name": "dlm"} in dlm
