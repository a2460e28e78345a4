"""hapair_fence execution module: ask each fence agent of a topology its own ``status``.

Arguments reach the agent as ``key=value`` lines on stdin, never in argv: a fence agent reads
stdin only when its argv is empty, so ``action=status`` is a stdin line too, and the password
never shows in ``ps`` (fence_ipmilan itself still hands it to ipmitool as ``-P``: see
docs/fencing.md). Every return and error is masked with the topology's secrets.

Config: ``hapair:paths:fence_agents_dir`` (``/usr/sbin``, where ``list_agents`` looks);
``hapair:bin:<agent>`` overrides an agent's path; ``hapair:fence_timeout`` (60 s, fence_ipmilan
gives up on an unreachable BMC after about 20 s).
"""

from __future__ import annotations

import os
import shutil

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.fencing as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.fencing as core

from hapair import adapter
from hapair.errors import HapairError
from hapair.secrets import mask
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_fence"
_AGENTS_DIR = "/usr/sbin"
_TIMEOUT = 60


def __virtual__():
    return __virtualname__


def _load(topology):
    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology, stack="corosync",
                                       require_node=False)
    return topo, node


def _secrets(topo):
    return list(dict.fromkeys([*(topo.get("secrets") or []), *core.secrets(topo)]))


def list_agents(path=None):
    """The fence agents installed here (``fence_*`` in ``hapair:paths:fence_agents_dir``, /usr/sbin).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_fence.list_agents
    """
    path = path or __salt__["config.get"]("hapair:paths:fence_agents_dir", _AGENTS_DIR)
    try:
        names = [n for n in os.listdir(path) if os.access(os.path.join(path, n), os.X_OK)]
    except OSError:
        return []
    return core.agent_names(names)


def _agent(agent):
    default = os.path.join(__salt__["config.get"]("hapair:paths:fence_agents_dir", _AGENTS_DIR), agent)
    found = adapter.binary(__salt__, agent, default)
    if not (os.access(found, os.X_OK) if os.path.isabs(found) else shutil.which(found)):
        raise CommandExecutionError(f"fence agent {agent} is not installed ({found}): install fence-agents")
    return found


def metadata(agent):
    """``<agent> -o metadata`` parsed: parameters, the required groups, actions.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_fence.metadata fence_ipmilan
    """
    if not isinstance(agent, str) or not core.agent_names([agent]):
        raise SaltInvocationError(f"{agent!r} is not a fence agent name (fence_...)")
    res = adapter.run(__salt__, [_agent(agent), "-o", "metadata"])
    return adapter.parsed(core.parse_metadata, res["stdout"])


def _ask(topo, device, node, action):
    try:
        req = core.status_request(topo, device, node, action=action)
    except HapairError as err:
        raise SaltInvocationError(mask(str(err), _secrets(topo)))
    timeout = int(__salt__["config.get"]("hapair:fence_timeout", _TIMEOUT))
    res = adapter.run(__salt__, [_agent(req["agent"])], stdin=req["stdin"], secrets=_secrets(topo),
                      ok_codes=range(0, 256), timeout=timeout)
    return req, res


def status(topology, device, node):
    """Run ``device``'s agent with ``action=status`` for victim ``node`` (arguments on stdin) and
    read its answer: ``{"device", "node", "agent", "ok", "power": "on"|"off"|None, "retcode",
    "error", "warnings", "problems"}``. ``ok``: the device answered (power on, exit 0; or off,
    exit 2); ``problems``: arguments the agent's metadata requires but are missing, or does not
    know (checked before it runs; it does not run then).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_fence.status lab_gfs2 node2_ipmi node2
    """
    topo, _node = _load(topology)
    secrets = _secrets(topo)
    try:
        req = core.status_request(topo, device, node)
    except HapairError as err:
        raise SaltInvocationError(mask(str(err), secrets))
    out = {"device": device, "node": node, "agent": req["agent"], "ok": False, "power": None, "retcode": None,
           "error": None, "warnings": [], "problems": []}
    meta = metadata(req["agent"])
    given = [line.split("=", 1)[0] for line in req["stdin"].splitlines()[1:]]
    problems = [f"missing {' or '.join(group)}" for group in core.missing_args(req["agent"], given, meta)]
    problems += [f"unknown to {req['agent']}: {arg}" for arg in core.unknown_args(meta, given)]
    if problems:
        out.update(problems=problems, error="; ".join(problems))
        return mask(out, secrets)
    _req, res = _ask(topo, device, node, "status")
    out.update(core.parse_status(res["retcode"], res["stdout"], res["stderr"]))
    return mask(out, secrets)


def check(topology, node=None):
    """``status`` of every device of every node's fence methods (only victim ``node``'s when
    given), in method order: ``[status return]``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_fence.check lab_gfs2
    """
    topo, _me = _load(topology)
    return [status(topology, pair["device"], pair["node"]) for pair in core.pairs(topo, node)]
