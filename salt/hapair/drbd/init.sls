{#- Every DRBD resource of pillar['topology'] this minion belongs to, in order:
    configured, metadata_created, up, connected, initial_sync, synced, then its role.
    Safe on both nodes at once: only initial_primary forces, the other node waits.
    Usage: salt 'node*' state.apply hapair.drbd pillar='{"topology": "lab_web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair with context %}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- if not topology %}

hapair-drbd-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to apply: pillar='{\"topology\": \"<name>\"}'"

{%- else %}
{%-   set lvm = salt['pillar.get']('hapair:topologies:' ~ topology ~ ':lvm', {}) %}
{%-   if lvm %}

hapair-drbd-lvm-present:
  hapair_lvm.present:
    - name: {{ topology | json }}
{%-   endif %}
{%-   for res in salt['drbd.topology_resources'](topology) %}
{%-     set id = 'hapair-drbd-' ~ res.name %}

{{ id }}-configured:
  drbd.configured:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
{%-     if lvm %}
    - require:
      - hapair_lvm: hapair-drbd-lvm-present
{%-     endif %}

{{ id }}-metadata-created:
  drbd.metadata_created:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
    - overwrite_data: {{ hapair.drbd.overwrite_data | json }}
    - require:
      - drbd: {{ id }}-configured

{{ id }}-up:
  drbd.up:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
    - require:
      - drbd: {{ id }}-metadata-created

{{ id }}-connected:
  drbd.connected:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
    - timeout: {{ hapair.drbd.connect_timeout | json }}
    - require:
      - drbd: {{ id }}-up

{{ id }}-initial-sync:
  drbd.initial_sync:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
    - require:
      - drbd: {{ id }}-connected

{{ id }}-synced:
  drbd.synced:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
    - timeout: {{ hapair.drbd.sync_timeout | json }}
    - require:
      - drbd: {{ id }}-initial-sync
{%-     if res.role_state %}

{{ id }}-{{ res.role_state | replace('_', '-') }}:
  drbd.{{ res.role_state }}:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
    - require:
      - drbd: {{ id }}-synced
{%-     endif %}
{%-   endfor %}
{%- endif %}
