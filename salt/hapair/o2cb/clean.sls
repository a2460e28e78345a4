{#- Undo hapair.o2cb on this minion: o2cb stopped and disabled at boot, its two config files
    removed. Apply hapair.ocfs2.clean first (o2cb cannot stop under a mounted OCFS2 volume).
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'web*' state.apply hapair.o2cb.clean pillar='{"topology": "web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- set o2cb = hapair.get('o2cb', {}) %}
{%- if not topology %}

hapair-o2cb-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}

hapair-o2cb-service-dead:
  service.dead:
    - name: {{ o2cb.get('service', 'o2cb') | json }}
    - enable: false

hapair-o2cb-config-absent:
  file.absent:
    - names: {{ salt['o2cb.render'](topology) | list | json }}
    - require:
      - service: hapair-o2cb-service-dead
{%- endif %}
