{#- hapair bootstrap, step 4 on each node: metadata (never over data) and up, after the DRBD
    config (step 3, included, with the packages of step 2). #}
{%- from 'orch/hapair/map.jinja' import tname, resources with context %}
include:
  - orch.hapair.node.drbd_config
{%- for res in resources | sort %}

hapair-orch-drbd-{{ res }}-metadata-created:
  drbd.metadata_created:
    - name: {{ res | json }}
    - topology: {{ tname | json }}
    - require:
      - sls: orch.hapair.node.drbd_config

hapair-orch-drbd-{{ res }}-up:
  drbd.up:
    - name: {{ res | json }}
    - topology: {{ tname | json }}
    - require:
      - drbd: hapair-orch-drbd-{{ res }}-metadata-created
{%- endfor %}

hapair-orch-drbd-up-node-done:
  test.nop:
    - name: {{ (tname ~ ' drbd-up on ' ~ grains.get('id')) | json }}
