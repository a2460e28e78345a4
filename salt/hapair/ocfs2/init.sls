{#- The OCFS2 filesystems of the topology on this minion: boot ordering (DRBD promoted
    before the mount, instead of seed 001's rc.local), mkfs once on the format node (only when
    DRBD is Primary with the peer UpToDate), then the fstab line and the mount on mount_on nodes.
    Needs hapair.o2cb (cluster online) and hapair.drbd (resource Primary) first.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'web*' state.apply hapair.ocfs2 pillar='{"topology": "web"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- if not topology %}

hapair-ocfs2-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

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
