{#- hapair bootstrap, stack corosync, on each node: the authkey (only when the topology has one;
    never shown), corosync.conf (checked with the real `corosync -t` before it is installed), then
    corosync running and enabled at boot. The master's quorate gate waits for both. #}
{%- from 'orch/hapair/map.jinja' import tname with context %}
hapair-orch-corosync-authkey-managed:
  corosync.authkey_managed:
    - name: {{ salt['config.get']('hapair:paths:corosync_authkey', '/etc/corosync/authkey') | json }}
    - topology: {{ tname | json }}

hapair-orch-corosync-configured:
  corosync.configured:
    - name: {{ salt['config.get']('hapair:paths:corosync_conf', '/etc/corosync/corosync.conf') | json }}
    - topology: {{ tname | json }}

hapair-orch-corosync-running:
  service.running:
    - name: corosync
    - enable: true
    - require:
      - corosync: hapair-orch-corosync-authkey-managed
      - corosync: hapair-orch-corosync-configured

hapair-orch-corosync-node-done:
  test.nop:
    - name: {{ (tname ~ ' corosync on ' ~ grains.get('id')) | json }}
