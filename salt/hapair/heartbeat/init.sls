{#- Heartbeat v1 (seed 002) for pillar['topology'] on this minion: the package, then ha.cf,
    haresources and authkeys (0600) rendered from the topology and checked by hapair first.
    Usage: salt 'node0*' state.apply hapair.heartbeat pillar='{"topology": "apache"}' -#}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- if not topology %}

hapair-heartbeat-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to apply: pillar='{\"topology\": \"<name>\"}'"

{%- else %}

hapair-heartbeat-package-installed:
  pkg.installed:
    - name: heartbeat

hapair-heartbeat-config-managed:
  heartbeat.configured:
    - name: {{ topology | json }}
    - require:
      - pkg: hapair-heartbeat-package-installed

hapair-heartbeat-service-running:
  service.running:
    - name: heartbeat
    - enable: true
    - watch:
      - heartbeat: hapair-heartbeat-config-managed

{%- endif %}
