{#- hapair bootstrap, step 5 on each node: steady-state roles per resource mode. #}
{%- from 'orch/hapair/map.jinja' import tname, resources, node_names, my_node with context %}
{%- for res, spec in resources | dictsort %}
{%-   set spec = spec if spec is mapping else {} %}
{%-   set mode = spec.get('mode', 'single-primary') %}
{%-   set primary = spec.get('primary') or spec.get('initial_primary') or (node_names[0] if node_names else None) %}
{%-   if mode == 'dual-primary' %}
hapair-orch-drbd-{{ res }}-dual-primary:
  drbd.dual_primary:
    - name: {{ res | json }}
    - topology: {{ tname | json }}
{%-   elif my_node == primary %}
hapair-orch-drbd-{{ res }}-primary:
  drbd.primary:
    - name: {{ res | json }}
    - topology: {{ tname | json }}
{%-   else %}
hapair-orch-drbd-{{ res }}-secondary:
  drbd.secondary:
    - name: {{ res | json }}
    - topology: {{ tname | json }}
{%-   endif %}
{%- endfor %}

hapair-orch-roles-node-done:
  test.nop:
    - name: {{ (tname ~ ' roles on ' ~ grains.get('id')) | json }}
