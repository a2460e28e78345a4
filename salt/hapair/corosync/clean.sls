{#- Undo hapair.corosync on this minion: dlm_controld, then corosync, stopped and disabled at
    boot; corosync.conf and dlm.conf removed (the authkey too when the topology manages one).
    Apply hapair.gfs2.clean first (dlm cannot stop under a mounted GFS2 filesystem).
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.corosync.clean pillar='{"topology": "lab_gfs2"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- set corosync = hapair.get('corosync', {}) %}
{%- if not topology %}

hapair-corosync-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%-   set files = [salt['config.get']('hapair:paths:corosync_conf', '/etc/corosync/corosync.conf'),
                   salt['config.get']('hapair:paths:dlm_conf', '/etc/dlm/dlm.conf')] %}
{%-   if salt['corosync.plan_authkey'](topology).managed %}
{%-     do files.append(salt['config.get']('hapair:paths:corosync_authkey', '/etc/corosync/authkey')) %}
{%-   endif %}

hapair-dlm-service-dead:
  service.dead:
    - name: {{ corosync.get('dlm_service', 'dlm') | json }}
    - enable: false

hapair-corosync-service-dead:
  service.dead:
    - name: {{ corosync.get('service', 'corosync') | json }}
    - enable: false
    - require:
      - service: hapair-dlm-service-dead

hapair-corosync-config-absent:
  file.absent:
    - names: {{ files | json }}
    - require:
      - service: hapair-corosync-service-dead
{%- endif %}
