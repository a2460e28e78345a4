{#- Heartbeat v1 (seed 002) for pillar['topology'] on this minion: the package; ha.cf,
    haresources, authkeys (0600), the drbdlinks resource script and the groups' drbdlinks
    configs, rendered from the topology and checked by hapair first; the groups' services
    disabled at boot (heartbeat starts them); heartbeat enabled and running. A running
    heartbeat is never restarted here (a restart hands the groups over): a config change takes
    effect at its next start, after a planned switchover (heartbeat.standby on this node).
    Usage: salt 'node0*' state.apply hapair.heartbeat pillar='{"topology": "apache"}' -#}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- if not topology %}

hapair-heartbeat-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to apply: pillar='{\"topology\": \"<name>\"}'"

{%- else %}

hapair-heartbeat-package-installed:
  pkg.installed:
    - pkgs: {{ salt['pillar.get']('hapair:lookup:heartbeat:packages', salt['hapair_bootstrap.packages']('heartbeat')) | json }}

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
