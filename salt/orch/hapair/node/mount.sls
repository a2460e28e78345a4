{#- hapair bootstrap, step 8 on each node: boot ordering (promote DRBD before the mount, by
    systemd units instead of rc.local), then mount with _netdev and the recipe's options on the
    nodes of each filesystem's mount_on (ocfs2.mounted changes nothing elsewhere). #}
{%- from 'orch/hapair/map.jinja' import tname, filesystems with context %}
hapair-orch-ocfs2-boot-ordered:
  ocfs2.boot_ordered:
    - name: {{ tname }}
{%- for name, fs in filesystems | dictsort %}
{%-   if fs is mapping and fs.get('type') == 'ocfs2' %}

hapair-orch-ocfs2-{{ name }}-mounted:
  ocfs2.mounted:
    - name: {{ name }}
    - topology: {{ tname }}
    - require:
      - ocfs2: hapair-orch-ocfs2-boot-ordered
{%-   endif %}
{%- endfor %}

hapair-orch-mount-node-done:
  test.nop:
    - name: {{ tname }} mount on {{ grains.get('id') }}
