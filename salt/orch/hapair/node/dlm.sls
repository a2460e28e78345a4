{#- hapair bootstrap, stack corosync, on each node once both are quorate: dlm_controld's dlm.conf
    (enable_fencing from cluster:corosync:dlm; fencing on without a fence method is refused, as
    the first GFS2 mount would block), then dlm running and enabled at boot. #}
{%- from 'orch/hapair/map.jinja' import tname with context %}
hapair-orch-dlm-configured:
  corosync.dlm_configured:
    - name: {{ salt['config.get']('hapair:paths:dlm_conf', '/etc/dlm/dlm.conf') | json }}
    - topology: {{ tname | json }}

hapair-orch-dlm-running:
  service.running:
    - name: dlm
    - enable: true
    - require:
      - corosync: hapair-orch-dlm-configured

hapair-orch-dlm-node-done:
  test.nop:
    - name: {{ (tname ~ ' dlm on ' ~ grains.get('id')) | json }}
