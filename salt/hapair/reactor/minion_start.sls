{#- hapair reactor: a minion (re)started -> let hapair.remediate look at every resource of every
    topology that has this minion (rejoin after reboot: `drbdadm up`, then promote in dual-primary,
    as the topology's remediation policy allows). The beacon's first reading is silent, so this is
    how a rebooted node rejoins. Every minion of the fleet starts it: for a minion that is a node of
    no topology the runner returns result True, "<id> is not a node of any topology: nothing to do",
    and runs no job on any minion (a restart elsewhere in the fleet logs no failed runner job).

    Master config:
      reactor:
        - 'salt/minion/*/start':
          - salt://hapair/reactor/minion_start.sls -#}
{#- The sender's id (master-set for a minion's own start event) must pass hapair.fields.is_minion_id
    (full match, '\\Z': no trailing newline) and be the id the tag names; anything else starts
    nothing. The state ID is fixed and every value is data (`| json`); the runner checks again. -#}
{%- set minion_re = '^[A-Za-z0-9][A-Za-z0-9_.-]*\\Z' %}
{%- set stamp_re = '^[0-9A-Za-z][0-9A-Za-z_.:+-]*\\Z' %}
{%- set sender = data.get('id') if data is mapping else None %}
{%- set sender_ok = sender is string and sender | length <= 255 and sender is match(minion_re) %}
{%- set stamp = data.get('_stamp') if data is mapping else None %}
{%- set stamp = stamp if stamp is string and stamp | length <= 64 and stamp is match(stamp_re) else None %}
{%- if sender_ok and tag is string and tag == 'salt/minion/' ~ sender ~ '/start' %}
hapair-reactor-rejoin:
  runner.hapair.remediate:
    - args:
      - minion: {{ sender | json }}
      - tag: {{ tag | json }}
      - event:
          kind: minion-start
          _stamp: {{ stamp | json }}
{%- endif %}
