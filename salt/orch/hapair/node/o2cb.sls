{#- hapair bootstrap, step 6 on each node: o2cb cluster.conf + /etc/default/o2cb (checked by the
    real o2cb parser before they are installed), then the cluster online. #}
{%- from 'orch/hapair/map.jinja' import tname with context %}
hapair-orch-o2cb-cluster-configured:
  o2cb.cluster_configured:
    - name: {{ tname | json }}

hapair-orch-o2cb-online:
  o2cb.online:
    - name: {{ tname | json }}
    - require:
      - o2cb: hapair-orch-o2cb-cluster-configured

hapair-orch-o2cb-node-done:
  test.nop:
    - name: {{ (tname ~ ' o2cb on ' ~ grains.get('id')) | json }}
