{#- Heartbeat v1 (seed 002) for the topology on this minion: the package; ha.cf,
    haresources, authkeys (0600), the drbdlinks resource script and the groups' drbdlinks
    configs, rendered from the topology and checked by hapair first; the groups' services
    disabled at boot (heartbeat starts them); heartbeat enabled and running. A running
    heartbeat is never restarted here (a restart hands the groups over): a config change takes
    effect at its next start, after a planned switchover (heartbeat.standby on this node).
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node0*' state.apply hapair.heartbeat pillar='{"topology": "apache"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- if not topology %}

hapair-heartbeat-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%- set unavailable = none if hapair.get('heartbeat', {}).get('packages') else salt['hapair_bootstrap.unavailable']('heartbeat') %}
{%- if unavailable %}

hapair-heartbeat-unavailable:
  test.fail_without_changes:
    - name: {{ ('heartbeat on this minion: ' ~ unavailable) | json }}

{%- else %}

hapair-heartbeat-package-installed:
  pkg.installed:
    - pkgs: {{ hapair.get('heartbeat', {}).get('packages', salt['hapair_bootstrap.packages']('heartbeat')) | json }}

hapair-heartbeat-config-managed:
  heartbeat.configured:
    - name: {{ topology | json }}
    - require:
      - pkg: hapair-heartbeat-package-installed

hapair-heartbeat-group-services-disabled:
  heartbeat.group_services_disabled:
    - name: {{ topology | json }}
    - require:
      - pkg: hapair-heartbeat-package-installed

hapair-heartbeat-service-running:
  heartbeat.running:
    - name: heartbeat
    - require:
      - heartbeat: hapair-heartbeat-config-managed
      - heartbeat: hapair-heartbeat-group-services-disabled
{%- endif %}
{%- endif %}
