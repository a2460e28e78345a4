{#- hapair bootstrap, step 1 on each node: packages and kernel modules. #}
{%- from 'orch/hapair/map.jinja' import tname, filesystems, stack, lvm, exports with context %}
{%- set types = [] %}
{%- for name, fs in filesystems | dictsort %}{% if fs is mapping %}{% do types.append(fs.get('type')) %}{% endif %}{% endfor %}
{%- set pkgs = ['drbd-utils'] %}
{%- if stack == 'o2cb' or 'ocfs2' in types %}{% do pkgs.append('ocfs2-tools') %}{% endif %}
{%- if 'gfs2' in types %}{% do pkgs.append('gfs2-utils') %}{% endif %}
{%- if stack == 'corosync' %}{% do pkgs.extend(['corosync', 'dlm-controld']) %}{% endif %}
{%- if lvm %}{% do pkgs.append('lvm2') %}{% endif %}
{%- if exports %}{% do pkgs.append('nfs-kernel-server') %}{% endif %}
hapair-orch-packages-installed:
  pkg.installed:
    - pkgs: {{ pkgs | json }}

hapair-orch-kmod-drbd-present:
  kmod.present:
    - name: drbd
    - persist: true
    - require:
      - pkg: hapair-orch-packages-installed

hapair-orch-packages-node-done:
  test.nop:
    - name: {{ (tname ~ ' packages on ' ~ grains.get('id')) | json }}
