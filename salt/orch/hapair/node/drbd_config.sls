{#- hapair bootstrap, step 2 on each node: the LVM volumes the resources sit on (when the topology
    has an lvm section; guarded: a device with another signature is refused), then DRBD config files. #}
{%- from 'orch/hapair/map.jinja' import tname, resources with context %}
{%- set lvm = salt['pillar.get']('hapair:topologies:' ~ tname ~ ':lvm', {}) %}
{%- if lvm %}
hapair-orch-lvm-present:
  hapair_lvm.present:
    - name: {{ tname }}
{%- endif %}
{%- for res in resources | sort %}
hapair-orch-drbd-{{ res }}-configured:
  drbd.configured:
    - name: {{ res }}
    - topology: {{ tname }}
{%-   if lvm %}
    - require:
      - hapair_lvm: hapair-orch-lvm-present
{%-   endif %}
{%- endfor %}

hapair-orch-drbd-config-node-done:
  test.nop:
    - name: {{ tname }} drbd-config on {{ grains.get('id') }}
