{#- The whole of hapair on this minion, for a highstate: the formula parts the topology uses, in
    order (map.jinja's `components`): hapair.drbd, then hapair.o2cb / hapair.corosync (the
    stack), hapair.ocfs2 / hapair.gfs2 (the filesystems), hapair.nfs (exports), hapair.heartbeat.
    The topology: pillar['topology'], else the one topology naming this minion, so a top file
    entry needs no inline pillar:
      base:
        'node*':
          - hapair
    Run on both nodes at once (as a highstate does): each node's DRBD bring-up waits for its
    peer. orch.hapair.bootstrap gates every step on the peer's observed state instead. Service
    groups of stack none (hapair_fs, hapair_lxc) and cman have no formula part yet: the
    orchestration runs those.
    Usage: salt 'node*' state.apply hapair    (or: state.highstate) -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import topology, topology_error, components with context %}
{%- if not topology %}

hapair-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}

include:
{%-   for part in components %}
  - {{ tplroot }}.{{ part }}
{%-   endfor %}
{%- endif %}
