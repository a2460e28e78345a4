# QEMU lab: seed 000's r0 on the lab nodes (node1/node2, replication link 10.99.0.0/24).
hapair:
  topologies:
    lab_web:
      nodes:
        node1:
          minion_id: node1
          address: 10.99.0.1
        node2:
          minion_id: node2
          address: 10.99.0.2
      drbd:
        dialect: auto
        global:
          usage-count: "no"
        common:
          net:
            protocol: C
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
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            cram_hmac_alg: sha1
            shared_secret: "secret"
      filesystems:
        www:
          resource: r0
          type: ocfs2
          slots: 2
          mountpoint: /srv/www
          mount_options: [_netdev, noatime]
      cluster:
        stack: o2cb
        name: labcl
