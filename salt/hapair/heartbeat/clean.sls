{#- Undo hapair.heartbeat on this minion: heartbeat stopped and disabled at boot (the groups'
    services with it: heartbeat stops what it started), then every file hapair.heartbeat wrote
    removed: ha.cf, haresources, authkeys, and the drbdlinks resource script and configs when a
    group relocates paths (the paths heartbeat.render lists; hapair:paths:ha_dir, conf_dir).
    The groups' services stay disabled at boot; DRBD and the filesystems are hapair.drbd.clean's
    and the groups' own. Stopping heartbeat on the active node stops the groups' services there:
    switch over first (heartbeat.standby) to keep them running on the peer.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node0*' state.apply hapair.heartbeat.clean pillar='{"topology": "apache"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- if not topology %}

hapair-heartbeat-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}

hapair-heartbeat-service-dead:
  service.dead:
    - name: heartbeat
    - enable: false

hapair-heartbeat-config-absent:
  file.absent:
    - names: {{ salt['heartbeat.render'](topology) | list | sort | json }}
    - require:
      - service: hapair-heartbeat-service-dead
{%- endif %}
