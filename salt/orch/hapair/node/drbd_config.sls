{#- hapair bootstrap, step 2 on each node: DRBD config files. #}
{%- from 'orch/hapair/map.jinja' import tname, resources with context %}
{%- for res in resources | sort %}
hapair-orch-drbd-{{ res }}-configured:
  drbd.configured:
    - name: {{ res }}
    - topology: {{ tname }}
{%- endfor %}

hapair-orch-drbd-config-node-done:
  test.nop:
    - name: {{ tname }} drbd-config on {{ grains.get('id') }}
