{#- hapair bootstrap, step 7: mkfs once per cluster filesystem. ocfs2.formatted / gfs2.formatted
    format only on the filesystem's format node (the topology's format_on: its resource's initial
    primary), only when DRBD is Primary there with the peer UpToDate, and never over a device
    holding data; on the other node they change nothing. #}
{%- from 'orch/hapair/map.jinja' import tname, filesystems with context %}
{%- for name, fs in filesystems | dictsort %}
{%-   set fstype = fs.get('type') if fs is mapping else None %}
{%-   if fstype in ('ocfs2', 'gfs2') %}
hapair-orch-{{ fstype }}-{{ name }}-formatted:
  {{ fstype }}.formatted:
    - name: {{ name | json }}
    - topology: {{ tname | json }}
{%-   endif %}
{%- endfor %}

hapair-orch-mkfs-node-done:
  test.nop:
    - name: {{ (tname ~ ' mkfs on ' ~ grains.get('id')) | json }}
