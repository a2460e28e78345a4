# QEMU lab: seed 004's GFS2 dual-primary, modern variant: corosync (two_node) + dlm instead
# of cman, one resource on /dev/vdb.
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
      filesystems:
        gfs2-00:
          resource: r0
          type: gfs2
          lock_table: labgfs:gfs2-00
          slots: 2
          mountpoint: /srv/gfs2-00
          mount_options: [_netdev, noatime]
      cluster:
        stack: corosync
        name: labgfs
        corosync:
          transport: knet
          two_node: true
          dlm:
            # dlm_controld's default is to fence; these two VMs have no fence device, so with
            # fencing on the first GFS2 mount would wait for a fence that never comes. Off here
            # (a lab with nothing to lose); a real pair keeps it on and adds fence_all/device.
            enable_fencing: false
