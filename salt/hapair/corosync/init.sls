{#- The corosync 3 + dlm_controld stack of the topology on this minion (what GFS2 needs):
    packages, the authkey (only when the topology has one; never shown), corosync.conf (checked
    with the real `corosync -t` before it is installed), corosync running and enabled, quorate
    (two_node: waits until the peer has been seen once), then dlm.conf (enable_fencing from the
    topology) and dlm_controld running and enabled.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.corosync pillar='{"topology": "lab_gfs2"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- set corosync = hapair.get('corosync', {}) %}
{%- if not topology %}

hapair-corosync-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%- set unavailable = none if hapair.get('corosync', {}).get('packages') else salt['hapair_bootstrap.unavailable']('corosync') %}
{%- if unavailable %}

hapair-corosync-unavailable:
  test.fail_without_changes:
    - name: {{ ('corosync on this minion: ' ~ unavailable) | json }}

{%- else %}

hapair-corosync-packages-installed:
  pkg.installed:
    - pkgs: {{ corosync.get('packages', salt['hapair_bootstrap.packages']('corosync')) | json }}

hapair-corosync-authkey-managed:
  corosync.authkey_managed:
    - name: {{ salt['config.get']('hapair:paths:corosync_authkey', '/etc/corosync/authkey') | json }}
    - topology: {{ topology | json }}
    - require:
      - pkg: hapair-corosync-packages-installed

hapair-corosync-config-managed:
  corosync.configured:
    - name: {{ salt['config.get']('hapair:paths:corosync_conf', '/etc/corosync/corosync.conf') | json }}
    - topology: {{ topology | json }}
    - require:
      - pkg: hapair-corosync-packages-installed

hapair-corosync-service-running:
  service.running:
    - name: {{ corosync.get('service', 'corosync') | json }}
    - enable: true
    - require:
      - corosync: hapair-corosync-authkey-managed
      - corosync: hapair-corosync-config-managed

hapair-corosync-quorate:
  corosync.quorate:
    - timeout: {{ corosync.get('quorate_timeout', 120) | json }}
    - require:
      - service: hapair-corosync-service-running

hapair-dlm-config-managed:
  corosync.dlm_configured:
    - name: {{ salt['config.get']('hapair:paths:dlm_conf', '/etc/dlm/dlm.conf') | json }}
    - topology: {{ topology | json }}
    - require:
      - pkg: hapair-corosync-packages-installed

hapair-dlm-service-running:
  service.running:
    - name: {{ corosync.get('dlm_service', 'dlm') | json }}
    - enable: true
    - require:
      - corosync: hapair-dlm-config-managed
      - corosync: hapair-corosync-quorate
{%- endif %}
{%- endif %}
