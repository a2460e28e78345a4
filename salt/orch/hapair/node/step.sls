{#- hapair bootstrap, one step on one node: the states hapair.bootstrap.node_states lists for
    this minion in step pillar['step'] of topology pillar['topology'] (drbd-up, initial-sync,
    roles-demote, roles, o2cb, corosync, dlm, mkfs, mount, nfs), rendered as data. The
    orchestration (orch.hapair.bootstrap) targets only the nodes that have states in the step. -#}
{%- from 'hapair/states.jinja' import render %}
{%- set packages = pillar.get('packages', True) %}
{{- render(salt['hapair_bootstrap.node_states'](pillar.get('topology', ''), pillar.get('step', ''), packages=packages)) }}
