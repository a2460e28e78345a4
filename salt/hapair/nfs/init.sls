{#- The topology's NFS exports on this node (seed 001), after its filesystems are mounted:
    /etc/exports.d/hapair-<topology>.exports, nfs-server started and enabled, exportfs -ra.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.nfs pillar='{"topology": "fileserver"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- if not topology %}

hapair-nfs-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}

hapair-nfs-exported:
  hapair_nfs.exported:
    - name: {{ topology | json }}
{%- endif %}
