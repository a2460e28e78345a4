{#- hapair bootstrap, step 4: the initial sync (full: primary --force; skip: --clear-bitmap).
    drbd.initial_sync acts on the resource's initial_primary only and records that it did, so a
    re-run never forces again; on the other node it changes nothing. #}
{%- from 'orch/hapair/map.jinja' import tname, resources with context %}
{%- for res in resources | sort %}
hapair-orch-drbd-{{ res }}-initial-sync:
  drbd.initial_sync:
    - name: {{ res | json }}
    - topology: {{ tname | json }}
{%- endfor %}

hapair-orch-initial-sync-node-done:
  test.nop:
    - name: {{ (tname ~ ' initial-sync on ' ~ grains.get('id')) | json }}
