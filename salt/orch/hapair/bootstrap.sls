{#- hapair: bootstrap a two-node DRBD pair from the pillar topology alone.

    salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "web"}'

    1 validate (salt.runner hapair.validate: a bad topology fails here, before any minion job)
    2-4 on both, one state run per node: packages + kernel module, DRBD config, metadata + up
                                              gate: both Connected
    5 initial sync (full or skip, on the initial primary; recorded, never forced twice)
                                              gate: both UpToDate (sync progress printed)
    6 roles per mode (dual-primary: both)     gate: roles observed on both
    7 o2cb config + online on both            gate: o2cb online on both       (stack o2cb)
    7 corosync config + running on both       gate: quorate on both           (stack corosync)
      dlm.conf + dlm_controld on both         gate: dlm up on both
    8 mkfs once on one node                   9 mount on both                 gate: mounted
    9b NFS exports on both (when the topology has nfs:exports; only over mounted filesystems)
    10 canary written on one node, read on the other

    Every step is idempotent and every gate reads the *observed* state of both nodes
    (hapair.wait_for), so a re-run continues from wherever the cluster is. Optional pillar
    `hapair:orchestration`: {connect_timeout: 300, sync_timeout: 86400, gate_timeout: 300,
    packages: true, sync_modules: false}. -#}
{%- from 'orch/hapair/map.jinja' import tname, minion_ids, resources, filesystems, exports, stack, orch with context %}
{#- a list target as data: a JSON list of validated minion ids (map.jinja), never joined text #}
{%- set tgt = minion_ids | json %}
{%- set step_pillar = {'topology': tname} | json %}
{%- set cluster_fs = [] %}
{%- for name, fs in filesystems | dictsort %}
{%-   if fs is mapping and fs.get('type') in ('ocfs2', 'gfs2') %}{% do cluster_fs.append(name) %}{% endif %}
{%- endfor %}

hapair-bootstrap-validate:
  salt.runner:
    - name: hapair.validate
    - topology: {{ tname | json }}

{%- if minion_ids %}
{%- set last = 'hapair-bootstrap-validate' %}

{%- if orch.get('sync_modules', False) %}
hapair-bootstrap-sync-modules:
  salt.function:
    - name: saltutil.sync_all
    - tgt: {{ tgt }}
    - tgt_type: list
    - require:
      - salt: {{ last }}
{%- set last = 'hapair-bootstrap-sync-modules' %}
{%- endif %}

{#- packages, DRBD config, metadata + up: node-local, no peer gate between them, so one state
    run per node (each salt.state round trip costs 10-20 s on a slow minion): node/drbd_up.sls
    includes node/drbd_config.sls, which includes node/packages.sls, each requiring the one
    before, so a node's run stops at its first failure as separate steps would. #}
hapair-bootstrap-drbd-up:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.drbd_up
    - pillar: {{ step_pillar }}
    - require:
      - salt: {{ last }}

hapair-bootstrap-gate-connected:
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: connected
    - timeout: {{ orch.get('connect_timeout', 300) | json }}
    - require:
      - salt: hapair-bootstrap-drbd-up

hapair-bootstrap-initial-sync:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.initial_sync
    - pillar: {{ step_pillar }}
    - require:
      - salt: hapair-bootstrap-gate-connected

hapair-bootstrap-gate-synced:
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: synced
    - timeout: {{ orch.get('sync_timeout', 86400) | json }}
    - require:
      - salt: hapair-bootstrap-initial-sync

hapair-bootstrap-roles:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.roles
    - pillar: {{ step_pillar }}
    - require:
      - salt: hapair-bootstrap-gate-synced

hapair-bootstrap-gate-roles:
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: roles
    - timeout: {{ orch.get('gate_timeout', 300) | json }}
    - require:
      - salt: hapair-bootstrap-roles
{%- set last = 'hapair-bootstrap-gate-roles' %}

{%- if stack == 'o2cb' %}

hapair-bootstrap-o2cb:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.o2cb
    - pillar: {{ step_pillar }}
    - require:
      - salt: {{ last }}

hapair-bootstrap-gate-o2cb-online:
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: o2cb_online
    - timeout: {{ orch.get('gate_timeout', 300) | json }}
    - require:
      - salt: hapair-bootstrap-o2cb
{%- set last = 'hapair-bootstrap-gate-o2cb-online' %}
{%- endif %}

{%- if stack == 'corosync' %}

hapair-bootstrap-corosync:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.corosync
    - pillar: {{ step_pillar }}
    - require:
      - salt: {{ last }}

hapair-bootstrap-gate-quorate:
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: quorate
    - timeout: {{ orch.get('gate_timeout', 300) | json }}
    - require:
      - salt: hapair-bootstrap-corosync

hapair-bootstrap-dlm:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.dlm
    - pillar: {{ step_pillar }}
    - require:
      - salt: hapair-bootstrap-gate-quorate

hapair-bootstrap-gate-dlm-up:
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: dlm_up
    - timeout: {{ orch.get('gate_timeout', 300) | json }}
    - require:
      - salt: hapair-bootstrap-dlm
{%- set last = 'hapair-bootstrap-gate-dlm-up' %}
{%- endif %}

{%- if cluster_fs %}

hapair-bootstrap-mkfs:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.mkfs
    - pillar: {{ step_pillar }}
    - require:
      - salt: {{ last }}

hapair-bootstrap-mount:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.mount
    - pillar: {{ step_pillar }}
    - require:
      - salt: hapair-bootstrap-mkfs

hapair-bootstrap-gate-mounted:
  salt.runner:
    - name: hapair.wait_for
    - topology: {{ tname | json }}
    - condition: mounted
    - filesystem: {{ cluster_fs | json }}
    - timeout: {{ orch.get('gate_timeout', 300) | json }}
    - require:
      - salt: hapair-bootstrap-mount

{%- set before_canary = 'hapair-bootstrap-gate-mounted' %}
{%- if exports %}

hapair-bootstrap-nfs:
  salt.state:
    - tgt: {{ tgt }}
    - queue: True  # wait for a state run already on the minion (a remediation) instead of failing
    - tgt_type: list
    - sls: orch.hapair.node.nfs
    - pillar: {{ step_pillar }}
    - require:
      - salt: hapair-bootstrap-gate-mounted
{%- set before_canary = 'hapair-bootstrap-nfs' %}
{%- endif %}

hapair-bootstrap-canary:
  salt.runner:
    - name: hapair.canary
    - topology: {{ tname | json }}
    - require:
      - salt: {{ before_canary }}
{%- endif %}
{%- endif %}
