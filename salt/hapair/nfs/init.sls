{#- The topology's NFS exports on this node (seed 001), after its filesystems are mounted:
    salt 'node*' state.apply hapair.nfs pillar='{"topology": "fileserver"}' -#}
{%- set topology = salt['pillar.get']('topology', '') %}
{%- if not topology %}

hapair-nfs-topology-missing:
  test.fail_without_changes:
    - name: "pass the topology to apply: pillar='{\"topology\": \"<name>\"}'"

{%- else %}

hapair-nfs-exported:
  hapair_nfs.exported:
    - name: {{ topology | json }}
{%- endif %}
