{#- Undo hapair.nfs on this minion: the topology's exports file
    (hapair:paths:exports_dir/hapair-<topology>.exports) and its nfs-server boot-order drop-in
    removed, then nfs-server reloaded
    (exportfs -r) when it runs, so those exports end. nfs-server itself stays as it is (it may
    serve exports hapair does not own); apply hapair.nfs.clean before unmounting the exported
    filesystems (hapair.ocfs2.clean).
    The topology: pillar['topology'], else the one topology naming this minion (map.jinja).
    Usage: salt 'node*' state.apply hapair.nfs.clean pillar='{"topology": "fileserver"}' -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import hapair, topology, topology_error with context %}
{%- set nfs = hapair.get('nfs', {}) %}
{#- the name goes into a path: hapair.fields' name pattern, full match ('\\Z': no newline) #}
{%- set name_re = '^[A-Za-z0-9][A-Za-z0-9_.+-]*\\Z' %}
{%- if not topology %}

hapair-nfs-clean-topology-missing:
  test.fail_without_changes:
    - name: {{ topology_error | json }}

{%- elif not (topology is string and topology | length <= 255 and topology is match(name_re)) %}

hapair-nfs-clean-topology-refused:
  test.fail_without_changes:
    - name: {{ ("refusing topology " ~ (topology | string)[:64] ~ ": not a name ([A-Za-z0-9_.+-])") | json }}

{%- else %}
{%-   set exports_dir = salt['config.get']('hapair:paths:exports_dir', '/etc/exports.d') %}
{%-   set service = salt['config.get']('hapair:nfs_service', nfs.get('service', 'nfs-server')) %}

{%-   set systemd_dir = salt['config.get']('hapair:paths:systemd_dir', '/etc/systemd/system') %}

hapair-nfs-exports-absent:
  file.absent:
    - name: {{ (exports_dir.rstrip('/') ~ '/hapair-' ~ topology ~ '.exports') | json }}

hapair-nfs-boot-order-absent:
  file.absent:
    - name: {{ (systemd_dir.rstrip('/') ~ '/' ~ service ~ '.service.d/hapair-' ~ topology ~ '.conf') | json }}

hapair-nfs-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: hapair-nfs-boot-order-absent

hapair-nfs-service-reloaded:
  module.run:
    - service.reload:
      - {{ service | json }}
    - onlyif:
      - fun: service.status
        args:
          - {{ service | json }}
    - onchanges:
      - file: hapair-nfs-exports-absent
{%- endif %}
