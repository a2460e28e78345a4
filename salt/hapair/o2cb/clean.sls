{#- Undo hapair.o2cb on this minion: the topology's cluster offline (o2cb.offline: the bootstrap
    brings it online with the init script, unseen by systemd), o2cb stopped and disabled at boot,
    its two config files removed. Apply hapair.ocfs2.clean first (o2cb cannot stop under a mounted OCFS2 volume).
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

hapair-o2cb-offline:
  o2cb.offline:
    - name: {{ topology | json }}

hapair-o2cb-service-dead:
  service.dead:
    - name: {{ o2cb.get('service', 'o2cb') | json }}
    - enable: false
    - require:
      - o2cb: hapair-o2cb-offline

hapair-o2cb-config-absent:
  file.absent:
    - names: {{ salt['o2cb.render'](topology) | list | json }}
    - require:
      - service: hapair-o2cb-service-dead
{%- endif %}
