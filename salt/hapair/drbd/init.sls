{#- Every DRBD resource of the topology this minion belongs to, in order:
    configured, metadata_created, up, connected, initial_sync, synced, then its role: the
    states hapair.bootstrap.node_states(topology, "drbd") lists, the same DRBD bring-up (and IDs,
    hapair-drbd-<resource>-...) as the orchestration's drbd-up step. Safe on both nodes at once:
    only initial_primary forces, the other node waits.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.drbd pillar='{"topology": "lab_web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- from tplroot ~ "/states.jinja" import render %}
{%- if not topology %}

hapair-drbd-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{{ render(salt['hapair_bootstrap.node_states'](topology, 'drbd', overwrite_data=hapair.drbd.overwrite_data,
          connect_timeout=hapair.drbd.connect_timeout, sync_timeout=hapair.drbd.sync_timeout)) }}
{%- endif %}
