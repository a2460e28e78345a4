{#- Undo hapair.ocfs2 on this minion: unmount each OCFS2 filesystem of the topology and
    drop its fstab line, then remove the promote-before-mount units. Never formats or wipes.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'web*' state.apply hapair.ocfs2.clean pillar='{"topology": "web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- if not topology %}

hapair-ocfs2-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%-   for fs in salt['ocfs2.topology_filesystems'](topology) if fs.mount and fs.mountpoint %}

hapair-ocfs2-{{ fs.name }}-unmounted:
  mount.unmounted:
    - name: {{ fs.mountpoint | json }}
    - device: {{ fs.device | json }}
    - persist: true
    - require_in:
      - file: hapair-ocfs2-boot-units-absent
{%-   endfor %}

hapair-ocfs2-boot-units-absent:
  file.absent:
    - names: {{ salt['ocfs2.boot_units'](topology) | list | json }}

hapair-ocfs2-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: hapair-ocfs2-boot-units-absent
{%- endif %}
