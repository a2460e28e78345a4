{#- hapair bootstrap, step 7: mkfs once per filesystem. ocfs2.formatted formats only on the
    filesystem's format node (the topology's format_on: its resource's initial primary), only
    when DRBD is Primary there with the peer UpToDate, and never over a device holding data; on
    the other node it changes nothing. #}
{%- from 'orch/hapair/map.jinja' import tname, filesystems with context %}
{%- for name, fs in filesystems | dictsort %}
{%-   if fs is mapping and fs.get('type') == 'ocfs2' %}
hapair-orch-ocfs2-{{ name }}-formatted:
  ocfs2.formatted:
    - name: {{ name }}
    - topology: {{ tname }}
{%-   endif %}
{%- endfor %}

hapair-orch-mkfs-node-done:
  test.nop:
    - name: {{ tname }} mkfs on {{ grains.get('id') }}
