{#- Undo hapair on this minion: the clean.sls of every formula part the topology uses, in the
    reverse order of hapair/init.sls (heartbeat, nfs exports, filesystems unmounted, the stack
    stopped, DRBD down and its .res files removed). Never formats, wipes or touches DRBD
    metadata and data.
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.clean -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import topology, topology_error, components with context %}
{%- if not topology %}

hapair-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- else %}

include:
{%-   for part in components | reverse %}
  - {{ tplroot }}.{{ part }}.clean
{%-   endfor %}
{%- endif %}
