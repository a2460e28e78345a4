{#- hapair bootstrap, after the mounted gate on each node: the topology's NFS exports
    (/etc/exports.d/hapair-<topology>.exports, nfs-server started and enabled, exportfs -ra),
    refused while an exported filesystem is not mounted here. #}
{%- from 'orch/hapair/map.jinja' import tname with context %}
hapair-orch-nfs-exported:
  hapair_nfs.exported:
    - name: {{ tname | json }}

hapair-orch-nfs-node-done:
  test.nop:
    - name: {{ (tname ~ ' nfs on ' ~ grains.get('id')) | json }}
