{#- Undo hapair.drbd for pillar['topology'] on this minion: demote, take each resource down and
    remove its .res file. Metadata and data on the backing disks are left untouched.
    Usage: salt 'node*' state.apply hapair.drbd.clean pillar='{"topology": "lab_web"}' -#}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- set conf_dir = salt['config.get']('hapair:paths:drbd_conf_dir', '/etc/drbd.d') %}
{%- if not topology %}

hapair-drbd-clean-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to clean: pillar='{\"topology\": \"<name>\"}'"

{%- else %}
{%-   for res in salt['drbd.topology_resources'](topology) %}
{%-     set id = 'hapair-drbd-' ~ res.name %}

{{ id }}-secondary:
  drbd.secondary:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}

{{ id }}-down:
  drbd.down:
    - name: {{ res.name | json }}
    - topology: {{ topology | json }}
    - require:
      - drbd: {{ id }}-secondary

{{ id }}-res-file-absent:
  file.absent:
    - name: {{ (conf_dir ~ '/' ~ res.name ~ '.res') | json }}
    - require:
      - drbd: {{ id }}-down
{%-   endfor %}
{%- endif %}
