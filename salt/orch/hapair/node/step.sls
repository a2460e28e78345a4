{#- hapair bootstrap, one step on one node: the states hapair.bootstrap.node_states lists for
    this minion in step pillar['step'] of topology pillar['topology'] (drbd-up, initial-sync,
    roles-demote, roles, o2cb, corosync, dlm, mkfs, mount, nfs, group-format, group-start),
    rendered as data. The orchestration (orch.hapair.bootstrap) targets only the nodes that have
    states in the step. hapair.failover applies group-stop / group-takeover here with
    pillar['groups'], the groups it moves. -#}
{%- from 'hapair/states.jinja' import render %}
{%- set packages = pillar.get('packages', True) %}
{{- render(salt['hapair_bootstrap.node_states'](pillar.get('topology', ''), pillar.get('step', ''), packages=packages, groups=pillar.get('groups'))) }}
