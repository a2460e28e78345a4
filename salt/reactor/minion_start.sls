{#- hapair reactor: a minion (re)started -> let hapair.remediate look at every resource of every
    topology that has this minion (rejoin after reboot: `drbdadm up`, then promote in dual-primary,
    as the topology's remediation policy allows). The beacon's first reading is silent, so this is
    how a rebooted node rejoins.

    Master config:
      reactor:
        - 'salt/minion/*/start':
          - salt://reactor/minion_start.sls -#}
{%- if data.get('id') %}
hapair-reactor-rejoin-{{ data['id'] }}:
  runner.hapair.remediate:
    - args:
      - minion: {{ data['id'] | json }}
      - tag: {{ tag | json }}
      - event:
          kind: minion-start
          _stamp: {{ data.get('_stamp') | json }}
{%- endif %}
