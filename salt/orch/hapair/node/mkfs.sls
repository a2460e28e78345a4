{#- hapair bootstrap, step 7: mkfs once, on one node per filesystem (the resource's initial
    primary when it mounts the filesystem). ocfs2.formatted refuses a device that holds data. #}
{%- from 'orch/hapair/map.jinja' import tname, filesystems, my_node, fs_nodes with context %}
{%- for name, fs in filesystems | dictsort %}
{%-   set where = fs_nodes(fs) | load_json %}
{%-   if fs is mapping and fs.get('type') == 'ocfs2' and where.mkfs_on == my_node %}
hapair-orch-ocfs2-{{ name }}-formatted:
  ocfs2.formatted:
    - name: {{ name }}
    - topology: {{ tname }}
{%-   endif %}
{%- endfor %}

hapair-orch-mkfs-node-done:
  test.nop:
    - name: {{ tname }} mkfs on {{ grains.get('id') }}
