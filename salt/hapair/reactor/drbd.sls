{#- hapair reactor: DRBD state changes -> hapair.remediate (decides from the topology's policy).

    Master config (see salt/hapair/reactor/README.md):
      reactor:
        - 'hapair/drbd/*':
          - salt://hapair/reactor/drbd.sls

    Tags: hapair/drbd/<resource>/<kind> from the drbd beacon and DRBD's handlers (both name the
    topology the resource was rendered from; the runner checks that name against the one the
    sender's .res was rendered from and refuses a mismatch). Progress events
    (kind `sync`, fired by drbd.wait_synced) and pure detail kinds are ignored here; the runner
    re-reads both nodes anyway, is locked per resource, rate-limited, and ignores an event id it
    has handled already. -#}
{#- Nothing from the tag or the payload reaches the SLS text: the state ID is fixed, every value
    is checked here and rendered as data (`| json`), and an event that fails a check starts
    nothing. The patterns are hapair.fields' (is_name, is_minion_id) as full matches ('\\Z': no
    trailing newline; the master may not import hapair from Jinja); the kinds are
    hapair.events.ACTED_ON. The runner checks everything again with hapair.fields and decides only
    from the topology the sender's .res was rendered from: it is the real gate. -#}
{%- set name_re = '^[A-Za-z0-9][A-Za-z0-9_.+-]*\\Z' %}
{%- set minion_re = '^[A-Za-z0-9][A-Za-z0-9_.-]*\\Z' %}
{%- set stamp_re = '^[0-9A-Za-z][0-9A-Za-z_.:+-]*\\Z' %}
{%- set acted_on = ['present', 'role', 'disk', 'connection', 'standalone', 'peer-diskless',
                    'sync-finished', 'split-brain'] %}
{%- set parts = tag.split('/') if tag is string and tag | length <= 600 else [] %}
{%- set resource = parts[2] if parts | length == 4 and parts[0] == 'hapair' and parts[1] == 'drbd' else '' %}
{%- set resource_ok = resource is string and resource | length <= 255 and resource is match(name_re) %}
{%- set kind = parts[3] if resource_ok else '' %}
{%- set sender = data.get('id') if data is mapping else None %}
{%- set sender_ok = sender is string and sender | length <= 255 and sender is match(minion_re) %}
{%- set payload = data.get('data') if data is mapping and data.get('data') is mapping else data %}
{%- set payload = payload if payload is mapping else {} %}
{%- set new = payload.get('new') if payload.get('new') is mapping else {} %}
{%- set topology = payload.get('topology') %}
{#- a topology that is not a name is a forged payload (hapair writes names only): no reaction #}
{%- set topology_ok = topology is none or (topology is string and topology | length <= 255
                                            and topology is match(name_re)) %}
{%- set role = new.get('role') if new.get('role') in ['Primary', 'Secondary', 'Unknown'] else None %}
{%- set stamp = data.get('_stamp') if data is mapping else None %}
{%- set stamp = stamp if stamp is string and stamp | length <= 64 and stamp is match(stamp_re) else None %}
{#- a connection on its way (WFConnection, WFReportParams, Connecting, ...) decides nothing: the
    runner would only answer "waiting", and a link flap fires a dozen of them on both nodes. A
    change to StandAlone comes with its own `standalone` event, acted on; so `connection` is acted
    on only for Connected (promote, mount) and gone. #}
{%- set settled = kind != 'connection' or new.get('connection') in ['Connected', None] %}
{%- if resource_ok and sender_ok and topology_ok and kind in acted_on and settled %}
hapair-reactor-remediate:
  runner.hapair.remediate:
    - args:
      - resource: {{ resource | json }}
      - minion: {{ sender | json }}
{%- if topology is not none %}
      - topology: {{ topology | json }}
{%- endif %}
      - tag: {{ tag | json }}
      - event:
          kind: {{ kind | json }}
          _stamp: {{ stamp | json }}
          new: {role: {{ role | json }}}
{%- endif %}
