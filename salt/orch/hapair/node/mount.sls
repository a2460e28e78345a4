{#- hapair bootstrap, step 8 on each node of mount_on: mount (with _netdev and the recipe's options). #}
{%- from 'orch/hapair/map.jinja' import tname, filesystems, my_node, fs_nodes with context %}
{%- for name, fs in filesystems | dictsort %}
{%-   set where = fs_nodes(fs) | load_json %}
{%-   if fs is mapping and fs.get('type') == 'ocfs2' and my_node in where.mount_on %}
hapair-orch-ocfs2-{{ name }}-mounted:
  ocfs2.mounted:
    - name: {{ name }}
    - topology: {{ tname }}
{%-   endif %}
{%- endfor %}

hapair-orch-mount-node-done:
  test.nop:
    - name: {{ tname }} mount on {{ grains.get('id') }}
