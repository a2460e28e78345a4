# QEMU lab: seed 003's shape (crossed active/passive, Btrfs, LXC; no cluster manager) on the lab
# nodes. r0 on /dev/vdb, r1 on /dev/vdc limited to 256 MiB (DRBD `size`) so its full initial sync
# takes as long as r0's; r1 keeps the seed's per-node minors (/dev/drbd1 on node1, /dev/drbd2 on node2).
hapair:
  topologies:
    lab_crossed:
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
        resources:
          r0:
            minor: 0
            port: 7788
            disk: /dev/vdb
            meta_disk: internal
            protocol: C
            mode: crossed
            primary: node1
            initial_primary: node1
            initial_sync: full
          r1:
            minor: 1
            port: 7789
            disk: /dev/vdc
            meta_disk: internal
            protocol: C
            mode: crossed
            primary: node2
            initial_primary: node1
            initial_sync: full
            disk_section:
              size: 256M
            nodes:
              node2:
                minor: 2
      filesystems:
        store1:
          resource: r0
          type: btrfs
          mountpoint: /srv/store1
          mount_on: []
        store2:
          resource: r1
          type: btrfs
          mountpoint: /srv/store2
          mount_on: []
      groups:
        store1:
          node: node1
          resource: r0
          filesystem: store1
          containers:
            c1:
              template: busybox
        store2:
          node: node2
          resource: r1
          filesystem: store2
          containers:
            c2:
              template: busybox
      cluster:
        stack: none                     # seed 003 has no cluster manager: hapair.failover is the engine
