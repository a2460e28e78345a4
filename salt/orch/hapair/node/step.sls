{#- hapair bootstrap, one step on one node: the states hapair.bootstrap.node_states lists for
    this minion in step pillar['step'] of topology pillar['topology'] (drbd-up, roles-demote,
    roles, prepare, heartbeat, o2cb, corosync, dlm, mkfs, mount, nfs, group-format, group-start),
    rendered as data. The orchestration (orch.hapair.bootstrap) targets only the nodes that have
    states in the step, and passes pillar['connect_timeout'] (drbd-up's drbd.connected) and
    pillar['sync_timeout'] (drbd.synced in the first step that changes roles); unset, the
    orchestration's defaults. hapair.failover applies group-stop / group-takeover here with
    pillar['groups'], the groups it moves. -#}
{%- from 'hapair/states.jinja' import render %}
{%- set packages = pillar.get('packages', True) %}
{%- set states = salt['hapair_bootstrap.node_states'](
      pillar.get('topology', ''), pillar.get('step', ''), packages=packages,
      connect_timeout=pillar.get('connect_timeout'), sync_timeout=pillar.get('sync_timeout'),
      groups=pillar.get('groups')) %}
{{- render(states) }}
