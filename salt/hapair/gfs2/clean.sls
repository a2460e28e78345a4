{#- Undo hapair.gfs2 on this minion: unmount each GFS2 filesystem of the topology and drop
    its fstab line, then remove the promote-before-mount units. Never formats or wipes.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.gfs2.clean pillar='{"topology": "lab_gfs2"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- if not topology %}

hapair-gfs2-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%-   for fs in salt['gfs2.topology_filesystems'](topology) if fs.mount and fs.mountpoint %}

hapair-gfs2-{{ fs.name }}-unmounted:
  mount.unmounted:
    - name: {{ fs.mountpoint | json }}
    - device: {{ fs.device | json }}
    - persist: true
    - require_in:
      - file: hapair-gfs2-boot-units-absent
{%-   endfor %}

hapair-gfs2-boot-units-absent:
  file.absent:
    - names: {{ salt['gfs2.boot_unit_paths'](topology) | json }}

hapair-gfs2-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: hapair-gfs2-boot-units-absent
{%- endif %}
