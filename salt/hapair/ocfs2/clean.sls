{#- Undo hapair.ocfs2 on this minion: unmount each OCFS2 filesystem of pillar['topology'] and
    drop its fstab line, then remove the promote-before-mount units. Never formats or wipes.
    Usage: salt 'web*' state.apply hapair.ocfs2.clean pillar='{"topology": "web"}' -#}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- if not topology %}

hapair-ocfs2-clean-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to apply: pillar='{\"topology\": \"<name>\"}'"

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
