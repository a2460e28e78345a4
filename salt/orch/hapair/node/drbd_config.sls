{#- hapair bootstrap, step 3 on each node: the LVM volumes the resources sit on (when the topology
    has an lvm section; guarded: a device with another signature is refused), then DRBD config
    files. Includes step 2 (packages) unless `hapair:orchestration:packages` is false. #}
{%- from 'orch/hapair/map.jinja' import tname, resources, orch, lvm with context %}
{%- set packages = orch.get('packages', True) %}
{%- if packages %}
include:
  - orch.hapair.node.packages
{%- endif %}
{%- if lvm %}

hapair-orch-lvm-present:
  hapair_lvm.present:
    - name: {{ tname | json }}
{%-   if packages %}
    - require:
      - sls: orch.hapair.node.packages
{%-   endif %}
{%- endif %}
{%- for res in resources | sort %}

hapair-orch-drbd-{{ res }}-configured:
  drbd.configured:
    - name: {{ res | json }}
    - topology: {{ tname | json }}
{%-   if lvm or packages %}
    - require:
{%-     if lvm %}
      - hapair_lvm: hapair-orch-lvm-present
{%-     endif %}
{%-     if packages %}
      - sls: orch.hapair.node.packages
{%-     endif %}
{%-   endif %}
{%- endfor %}

hapair-orch-drbd-config-node-done:
  test.nop:
    - name: {{ (tname ~ ' drbd-config on ' ~ grains.get('id')) | json }}
