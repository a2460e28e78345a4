{#- The GFS2 filesystems of the topology on this minion: mkfs.gfs2 once on the format node
    (only when DRBD is Primary with the peer UpToDate, never over a signature), then on mount_on
    nodes the boot order (DRBD promoted before the mount), an fstab line with _netdev that
    requires the promote unit and dlm.service, and the mount.
    Needs hapair.corosync (dlm_controld up) and hapair.drbd (resource Primary) first.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.gfs2 pillar='{"topology": "lab_gfs2"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- set gfs2 = hapair.get('gfs2', {}) %}
{%- if not topology %}

hapair-gfs2-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}
{%- set unavailable = none if hapair.get('gfs2', {}).get('packages') else salt['hapair_bootstrap.unavailable']('gfs2') %}
{%- if unavailable %}

hapair-gfs2-unavailable:
  test.fail_without_changes:
    - name: {{ ('gfs2 on this minion: ' ~ unavailable) | json }}

{%- else %}

hapair-gfs2-packages-installed:
  pkg.installed:
    - pkgs: {{ gfs2.get('packages', salt['hapair_bootstrap.packages']('gfs2')) | json }}
{%-   for fs in salt['gfs2.topology_filesystems'](topology) %}
{%-     set id = 'hapair-gfs2-' ~ fs.name %}
{%-     if fs.format %}

{{ id }}-formatted:
  gfs2.formatted:
    - name: {{ fs.name | json }}
    - topology: {{ topology | json }}
    - require:
      - pkg: hapair-gfs2-packages-installed
{%-     endif %}
{%-     if fs.mount %}

{{ id }}-mounted:
  gfs2.mounted:
    - name: {{ fs.name | json }}
    - topology: {{ topology | json }}
    - require:
      - pkg: hapair-gfs2-packages-installed
{%-       if fs.format %}
      - gfs2: {{ id }}-formatted
{%-       endif %}
{%-     endif %}
{%-   endfor %}
{%- endif %}
{%- endif %}
