{#- hapair bootstrap, step 3 on each node: metadata (never over data) and up. #}
{%- from 'orch/hapair/map.jinja' import tname, resources with context %}
{%- for res in resources | sort %}
hapair-orch-drbd-{{ res }}-metadata-created:
  drbd.metadata_created:
    - name: {{ res }}
    - topology: {{ tname }}

hapair-orch-drbd-{{ res }}-up:
  drbd.up:
    - name: {{ res }}
    - topology: {{ tname }}
    - require:
      - drbd: hapair-orch-drbd-{{ res }}-metadata-created
{%- endfor %}

hapair-orch-drbd-up-node-done:
  test.nop:
    - name: {{ tname }} drbd-up on {{ grains.get('id') }}
