{#- The o2cb cluster stack of the topology on this minion: package, cluster.conf and
    /etc/default/o2cb (checked by the real o2cb parser and hapair before they are installed),
    o2cb enabled at boot, then the cluster online.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'web*' state.apply hapair.o2cb pillar='{"topology": "web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- set o2cb = hapair.get('o2cb', {}) %}
{%- if not topology %}

hapair-o2cb-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%- set unavailable = none if hapair.get('o2cb', {}).get('packages') else salt['hapair_bootstrap.unavailable']('o2cb') %}
{%- if unavailable %}

hapair-o2cb-unavailable:
  test.fail_without_changes:
    - name: {{ ('o2cb on this minion: ' ~ unavailable) | json }}

{%- else %}

hapair-o2cb-packages-installed:
  pkg.installed:
    - pkgs: {{ o2cb.get('packages', salt['hapair_bootstrap.packages']('o2cb')) | json }}

hapair-o2cb-config-managed:
  o2cb.cluster_configured:
    - name: {{ topology | json }}
    - require:
      - pkg: hapair-o2cb-packages-installed

hapair-o2cb-service-enabled:
  service.enabled:
    - name: {{ o2cb.get('service', 'o2cb') | json }}
    - require:
      - o2cb: hapair-o2cb-config-managed

hapair-o2cb-online:
  o2cb.online:
    - name: {{ topology | json }}
    - require:
      - o2cb: hapair-o2cb-config-managed
{%- endif %}
{%- endif %}
