{#- Undo hapair.drbd for the topology on this minion: demote, take each resource down and
    remove its .res file. Metadata and data on the backing disks are left untouched.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.drbd.clean pillar='{"topology": "lab_web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- set conf_dir = salt['config.get']('hapair:paths:drbd_conf_dir', '/etc/drbd.d') %}
{%- if not topology %}

hapair-drbd-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%-   for res in salt['hapair_drbd.topology_resources'](topology) %}
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
