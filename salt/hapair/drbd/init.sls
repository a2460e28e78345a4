{#- Every DRBD resource of pillar['topology'] this minion belongs to, in order:
    configured, metadata_created, up, connected, initial_sync, synced, then its role: the
    states hapair.bootstrap.node_states(topology, "drbd") lists, the same DRBD bring-up (and IDs,
    hapair-drbd-<resource>-...) as the orchestration's drbd-up step. Safe on both nodes at once:
    only initial_primary forces, the other node waits.
    Usage: salt 'node*' state.apply hapair.drbd pillar='{"topology": "lab_web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair with context %}
{%- from tplroot ~ "/states.jinja" import render %}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- if not topology %}

hapair-drbd-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to apply: pillar='{\"topology\": \"<name>\"}'"

{%- else %}
{{ render(salt['hapair_bootstrap.node_states'](topology, 'drbd', overwrite_data=hapair.drbd.overwrite_data,
          connect_timeout=hapair.drbd.connect_timeout, sync_timeout=hapair.drbd.sync_timeout)) }}
{%- endif %}
