{#- hapair reactor: DRBD state changes -> hapair.remediate (decides from the topology's policy).

    Master config (see salt/reactor/README.md):
      reactor:
        - 'hapair/drbd/*':
          - salt://reactor/drbd.sls

    Tags: hapair/drbd/<resource>/<kind> from the drbd beacon and DRBD's handlers (both name the
    topology the resource was rendered from; the runner then looks at that topology only). Progress events
    (kind `sync`, fired by drbd.wait_synced) and pure detail kinds are ignored here; the runner
    re-reads both nodes anyway, is locked per resource, rate-limited, and ignores an event id it
    has handled already. -#}
{%- set parts = tag.split('/') %}
{%- set resource = parts[2] if parts | length >= 4 else '' %}
{%- set kind = parts[-1] %}
{%- set payload = data.get('data') if data.get('data') is mapping else data %}
{%- set new = payload.get('new') if payload.get('new') is mapping else {} %}
{%- set topology = payload.get('topology') if payload.get('topology') is string else None %}
{%- set acted_on = ['present', 'role', 'disk', 'connection', 'standalone', 'peer-diskless',
                    'sync-finished', 'split-brain'] %}
{#- a connection on its way (WFConnection, WFReportParams, Connecting, ...) decides nothing: the
    runner would only answer "waiting", and a link flap fires a dozen of them on both nodes. A
    change to StandAlone comes with its own `standalone` event, acted on; so `connection` is acted
    on only for Connected (promote, mount) and gone. #}
{%- set settled = kind != 'connection' or new.get('connection') in ['Connected', None] %}
{%- if resource and kind in acted_on and settled %}
hapair-reactor-remediate-{{ resource }}:
  runner.hapair.remediate:
    - args:
      - resource: {{ resource | json }}
      - minion: {{ data.get('id') | json }}
{%- if topology %}
      - topology: {{ topology | json }}
{%- endif %}
      - tag: {{ tag | json }}
      - event:
          kind: {{ kind | json }}
          _stamp: {{ data.get('_stamp') | json }}
          new: {role: {{ new.get('role') | json }}}
{%- endif %}
