{#- The OCFS2 filesystems of pillar['topology'] on this minion: boot ordering (DRBD promoted
    before the mount, instead of seed 001's rc.local), mkfs once on the format node (only when
    DRBD is Primary with the peer UpToDate), then the fstab line and the mount on mount_on nodes.
    Needs hapair.o2cb (cluster online) and hapair.drbd (resource Primary) first.
    Usage: salt 'web*' state.apply hapair.ocfs2 pillar='{"topology": "web"}' -#}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- if not topology %}

hapair-ocfs2-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to apply: pillar='{\"topology\": \"<name>\"}'"

{%- else %}
{%-   set filesystems = salt['ocfs2.topology_filesystems'](topology) %}

hapair-ocfs2-boot-ordered:
  ocfs2.boot_ordered:
    - name: {{ topology | json }}
{%-   for fs in filesystems %}
{%-     set id = 'hapair-ocfs2-' ~ fs.name %}
{%-     if fs.format %}

{{ id }}-formatted:
  ocfs2.formatted:
    - name: {{ fs.name | json }}
    - topology: {{ topology | json }}
{%-     endif %}
{%-     if fs.mount %}

{{ id }}-mounted:
  ocfs2.mounted:
    - name: {{ fs.name | json }}
    - topology: {{ topology | json }}
    - require:
      - ocfs2: hapair-ocfs2-boot-ordered
{%-       if fs.format %}
      - ocfs2: {{ id }}-formatted
{%-       endif %}
{%-     endif %}
{%-   endfor %}
{%- endif %}
