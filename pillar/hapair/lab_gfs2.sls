# QEMU lab: seed 004's GFS2 dual-primary, modern variant: corosync (two_node) + dlm instead
# of cman. As in the seed, two resources on two replication links, each with its GFS2 mounted on
# both nodes: r0 on /dev/vdb over link 1 (10.99.0.x, corosync's too), r1 on an LV of /dev/vdc
# over link 2 (10.98.0.x); fencing on, fence_ipmilan against each VM's BMC (lab/config.py: ipmi_sim
# on the peer, so node2's BMC answers at node1's address).
# salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_gfs2"}'
hapair:
  topologies:
    lab_gfs2:
      nodes:
        node1:
          minion_id: node1
          address: 10.99.0.1
        node2:
          minion_id: node2
          address: 10.99.0.2
      lvm:
        vg0:
          pvs: [/dev/vdc]
          lvs:
            r1: 256M
      drbd:
        dialect: auto
        resources:
          r0:
            minor: 0
            port: 7788
            disk: /dev/vdb
            meta_disk: internal
            protocol: C
            mode: dual-primary
            initial_primary: node1
            initial_sync: full
            # safer than the recipe's violently-as0p for a lab that provokes split brains
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            cram_hmac_alg: sha1
            shared_secret: "123456"
            disk_section:
              on-io-error: detach
          r1:
            minor: 1
            port: 7789
            disk: /dev/vg0/r1
            meta_disk: internal
            protocol: C
            mode: dual-primary
            initial_primary: node1
            initial_sync: full
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            cram_hmac_alg: sha1
            shared_secret: "654321"
            disk_section:
              on-io-error: detach   # a failing disk: the node goes Diskless, served by its peer
            nodes:                  # r1 replicates over the second link
              node1:
                address: 10.98.0.1
              node2:
                address: 10.98.0.2
      filesystems:
        gfs2-00:
          resource: r0
          type: gfs2
          lock_table: labgfs:gfs2-00
          slots: 2
          mountpoint: /srv/gfs2-00
          mount_options: [_netdev, noatime]
        gfs2-01:
          resource: r1
          type: gfs2
          lock_table: labgfs:gfs2-01
          slots: 2
          mountpoint: /srv/gfs2-01
          mount_options: [_netdev, noatime]
      cluster:
        stack: corosync
        name: labgfs
        corosync:
          transport: knet
          two_node: true
          dlm:
            enable_fencing: true      # dlm_controld's default: a failed node is fenced before recovery
          fencing:
            fence_devices:            # action off: ipmi_sim cannot power a VM back on
              node1_ipmi: {agent: fence_ipmilan, ip: 10.99.0.2, username: admin, password: lab-bmc-pw,
                           lanplus: true, action: "off"}
              node2_ipmi: {agent: fence_ipmilan, ip: 10.99.0.1, username: admin, password: lab-bmc-pw,
                           lanplus: true, action: "off"}
            nodes:
              node1: {fence: [{method: ipmi, devices: [{name: node1_ipmi}]}]}
              node2: {fence: [{method: ipmi, devices: [{name: node2_ipmi}]}]}
