{#- hapair bootstrap, step 6 on each node: o2cb cluster config, then online. #}
{%- from 'orch/hapair/map.jinja' import tname, cluster with context %}
hapair-orch-o2cb-cluster-configured:
  o2cb.cluster_configured:
    - name: {{ cluster.get('name', tname) }}
    - topology: {{ tname }}

hapair-orch-o2cb-online:
  o2cb.online:
    - name: {{ cluster.get('name', tname) }}
    - topology: {{ tname }}
    - require:
      - o2cb: hapair-orch-o2cb-cluster-configured

hapair-orch-o2cb-node-done:
  test.nop:
    - name: {{ tname }} o2cb on {{ grains.get('id') }}
