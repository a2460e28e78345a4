{#- hapair: bootstrap a two-node DRBD pair from the pillar topology alone.

    salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "web"}'

    The steps are data: hapair_bootstrap.plan returns them (hapair.bootstrap.steps, table-tested
    per example topology) and this file renders one Salt step per entry, each requiring the one
    before. First always hapair.validate: an invalid topology fails there, every error with its
    pillar path; a topology the bootstrap cannot run (stack cman) or bad hapair:orchestration
    options fail right after it (hapair-bootstrap-refused). Both before any minion job. What the
    nodes already run is not asked here (deployed: False, no extra job): each node's
    drbd.configured refuses a clash with the topologies its .res files come from, before writing.

    kind state:    salt.state of orch.hapair.node.step on the step's targets (the nodes that have
                   states in it), the step named in the pillar with the step's timeouts (drbd-up
                   waits there for Connected: connect_timeout; the first step that changes roles
                   for UpToDate/UpToDate: sync_timeout); queue: a remediation already running on
                   a minion is waited for instead of failing the step
    kind gate:     hapair.wait_for on the *observed* state of both nodes, never a sleep
    kind function: one execution-module call (saltutil.sync_all)
    kind runner:   one runner call (hapair.canary)

    Optional pillar `hapair:orchestration`: {connect_timeout: 300, sync_timeout: 86400,
    gate_timeout: 300, packages: true, sync_modules: false}. -#}
{%- set tname = pillar.get('topology', '') %}
{%- set plan = salt['hapair_bootstrap.plan'](tname, salt['pillar.get']('hapair:orchestration', {})) %}

hapair-bootstrap-validate:
  salt.runner:
    - name: hapair.validate
    - topology: {{ tname | json }}
    - deployed: False
{%- if plan.error %}

hapair-bootstrap-refused:
  test.fail_without_changes:
    - name: {{ plan.error | json }}
    - require:
      - salt: hapair-bootstrap-validate
{%- endif %}
{%- for step in plan.steps %}

{{ ('hapair-bootstrap-' ~ step.id) | json }}:
{%-   if step.kind == 'state' %}
  salt.state:
    - tgt: {{ step.targets | json }}
    - tgt_type: list
    - queue: True
    - sls: orch.hapair.node.step
{%-     set step_pillar = {'topology': tname, 'step': step.id, 'packages': plan.options.packages} %}
{%-     do step_pillar.update(step.get('timeouts') or {}) %}
    - pillar: {{ step_pillar | json }}
{%-   elif step.kind == 'gate' %}
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: {{ step.condition | json }}
    - timeout: {{ step.timeout | json }}
{%-     if step.resources %}
    - resource: {{ step.resources | json }}
{%-     endif %}
{%-     if step.filesystems %}
    - filesystem: {{ step.filesystems | json }}
{%-     endif %}
{%-   elif step.kind == 'function' %}
  salt.function:
    - name: {{ step.function | json }}
    - tgt: {{ step.targets | json }}
    - tgt_type: list
{%-   else %}
  salt.runner:
    - name: {{ step.function | json }}
    - topology: {{ tname | json }}
{%-   endif %}
    - require:
      - salt: {{ ('hapair-bootstrap-' ~ (step.require or 'validate')) | json }}
{%- endfor %}
