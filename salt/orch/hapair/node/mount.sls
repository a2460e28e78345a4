{#- hapair bootstrap, step 8 on each node: boot ordering (promote DRBD before the mount, by
    systemd units instead of rc.local), then mount with _netdev and the recipe's options on the
    nodes of each filesystem's mount_on (the states change nothing elsewhere). OCFS2:
    ocfs2.boot_ordered + ocfs2.mounted; GFS2: gfs2.mounted installs the same units and an fstab
    line that also requires dlm.service. #}
{%- from 'orch/hapair/map.jinja' import tname, filesystems with context %}
{%- set types = [] %}
{%- for name, fs in filesystems | dictsort %}{% if fs is mapping %}{% do types.append(fs.get('type')) %}{% endif %}{% endfor %}
{%- if 'ocfs2' in types %}
hapair-orch-ocfs2-boot-ordered:
  ocfs2.boot_ordered:
    - name: {{ tname | json }}
{%- endif %}
{%- for name, fs in filesystems | dictsort %}
{%-   if fs is mapping and fs.get('type') == 'ocfs2' %}

hapair-orch-ocfs2-{{ name }}-mounted:
  ocfs2.mounted:
    - name: {{ name | json }}
    - topology: {{ tname | json }}
    - require:
      - ocfs2: hapair-orch-ocfs2-boot-ordered
{%-   elif fs is mapping and fs.get('type') == 'gfs2' %}

hapair-orch-gfs2-{{ name }}-mounted:
  gfs2.mounted:
    - name: {{ name | json }}
    - topology: {{ tname | json }}
{%-   endif %}
{%- endfor %}

hapair-orch-mount-node-done:
  test.nop:
    - name: {{ (tname ~ ' mount on ' ~ grains.get('id')) | json }}
