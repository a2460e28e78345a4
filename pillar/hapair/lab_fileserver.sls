# QEMU lab: seed 001's layout on LVM (vg0 on the 3G /dev/vdc), both resources dual-primary OCFS2,
# -T mail and -T vmstore as in the seed, fresh disks so the initial sync is skipped.
hapair:
  topologies:
    lab_fileserver:
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
            rep-drbd0: 100M
            # -T vmstore: mkfs.ocfs2 refuses devices under 2 GiB (the validator says so first)
            rep-drbd1: 2200M
            # the seed's unreplicated volumes, scaled down: ext4 on each node, in fstab
            rep-no:
              size: 64M
              filesystem: ext4
              mountpoint: /vol/rep-no
              mount_options: [noatime, nodiratime]
            rep-unison:
              size: 64M
              filesystem: ext4
              mountpoint: /vol/rep-unison
              mount_options: [noatime, nodiratime]
      # the seed's nightly two-way unison of rep-unison, node2 the client (the pair's ssh key from
      # the master's hapair_secrets ext_pillar)
      unison:
        profiles:
          vol-rep-unison:
            root: /vol/rep-unison
            client: node2
      drbd:
        dialect: auto
        common:
          startup:
            wfc-timeout: 120
          net:
            ping-int: 30
            ping-timeout: 60
        resources:
          drbd0:
            minor: 0
            port: 7790
            disk: /dev/vg0/rep-drbd0
            meta_disk: internal
            protocol: C
            mode: dual-primary
            initial_sync: skip
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            handlers:
              split-brain: "/usr/lib/drbd/notify-split-brain.sh root"
          drbd1:
            minor: 1
            port: 7791
            disk: /dev/vg0/rep-drbd1
            meta_disk: internal
            protocol: C
            mode: dual-primary
            initial_sync: skip
            after_sb_0pri: discard-zero-changes
            after_sb_1pri: discard-secondary
            after_sb_2pri: disconnect
            handlers:
              split-brain: "/usr/lib/drbd/notify-split-brain.sh root"
      filesystems:
        ocfs2-small:
          resource: drbd0
          type: ocfs2
          mkfs_type: mail
          feature_level: max-features
          mountpoint: /vol/ocfs2-small
          mount_options: [_netdev, noatime, data=writeback, commit=60, nodiratime]
        ocfs2-large:
          resource: drbd1
          type: ocfs2
          mkfs_type: vmstore
          feature_level: max-features
          mountpoint: /vol/ocfs2-large
          mount_options: [_netdev, noatime, data=writeback, commit=60, nodiratime]
      tuning:
        sysctl:                                 # seed 001's "Tuning", as committed
          vm.min_free_kbytes: 65536
          kernel.panic: 10
      cluster:
        stack: o2cb
        name: labfs
        o2cb:                                   # seed 001's slow-link o2cb timeouts (/etc/default/o2cb)
          heartbeat_threshold: 61
          idle_timeout_ms: 60000
          keepalive_delay_ms: 4000
          reconnect_delay_ms: 4000
      nfs:
        links:                                  # seed 001's layout: a public name for a directory on OCFS2
          /vol/home: /vol/ocfs2-small/home
        exports:
          - path: /vol/ocfs2-small
            clients: "*"
            options: [rw, no_root_squash, sync, subtree_check]
          - path: /vol/home
            clients: "*"
            options: [rw, no_root_squash, sync, subtree_check]
